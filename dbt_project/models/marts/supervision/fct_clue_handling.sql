-- grain: one row per clue x handling stage entered (clue_assign, clue_verify, clue_dispose)
-- Each stage of a problem clue with its working-day limit (reference.supervision_stage_limits),
-- due date, when it was done and by whom, and the lead department answerable for it.
{{ config(materialized='view') }}

with stages as (

    select * from {{ ref('int_supervision_stages') }}
    where object_type = 'clue'

),

clues as (

    select * from {{ source('supervision', 'clues') }}

),

clue_events as (

    select * from {{ source('supervision', 'clue_events') }}

),

leads as (

    select * from {{ source('supervision', 'clue_departments') }}
    where role = 'lead'

),

departments as (

    select * from {{ ref('departments') }}

),

final as (

    select
        clues.clue_id,
        clues.source_type,
        clues.title,
        clues.status as clue_status,
        leads.department_code as lead_department_code,
        departments.name_zh as lead_department_name,
        left(leads.department_code, 6) as lead_region_code,
        stages.stage,
        stages.stage_zh,
        stages.limit_workdays,
        stages.value_source,
        stages.start_at,
        stages.start_date,
        stages.due_date,
        stages.end_at,
        stages.done_date,
        (
            select e.actor
            from clue_events as e
            where e.clue_id = stages.object_id and e.event = 'status' and e.at = stages.end_at
            order by e.event_id
            limit 1
        ) as done_by,
        stages.workdays_used,
        stages.workdays_overdue,
        stages.stage_status,
        case stages.stage_status
            when 'late' then '超期办结'
            when 'on_time' then '按期办结'
            when 'open_overdue' then '超期未办'
            when 'open' then '办理中'
            else '日历外'
        end as stage_status_zh,
        stages.is_breach,
        stages.handling_as_of
    from stages
    inner join clues on stages.object_id = clues.clue_id
    left join leads on clues.clue_id = leads.clue_id
    left join departments on leads.department_code = departments.code

)

select * from final
