-- grain: one row per rule_id x item_id (complaint, case or tender against one time limit)
{{ config(
    post_hook=[
        "{{ table_index(this, 'key', 'rule_id, item_id', unique=true) }}",
        "analyze {{ this }}",
    ],
) }}

{# Time limits counted in working days of mainland China (int_workdays: State Council
   notices incl. 调休; beyond the known years Monday-Friday, see due_calendar_source).
   The day an item starts is not counted: due_date = the limit_workdays-th working day
   after start_date; done on or before due_date is on time. An item still open after its
   due date on the analysis date is a breach as well (open_overdue). #}

with items as (

    select * from {{ ref('int_time_limit_items_unioned') }}

),

departments as (

    select * from {{ ref('departments') }}

),

workdays as (

    select * from {{ ref('int_workdays') }}

),

dated as (

    select
        items.*,
        {{ as_of_date() }} as as_of_date,
        {{ add_workdays('items.start_date', 'items.limit_workdays') }} as due_date
    from items

),

measured as (

    select
        dated.*,
        due_day.calendar_source as due_calendar_source,
        dated.done_date is not null as is_done,
        case
            when dated.done_date is not null
                then {{ workdays_between('dated.start_date', 'dated.done_date') }}
            else {{ workdays_between('dated.start_date', 'dated.as_of_date') }}
        end as workdays_used
    from dated
    left join workdays as due_day
        on dated.due_date = due_day.date_day
    where dated.start_date <= dated.as_of_date

),

final as (

    select
        measured.rule_id,
        measured.item_type,
        measured.item_id,
        measured.tender_id,
        measured.start_at,
        measured.start_date,
        measured.done_at,
        measured.done_date,
        measured.limit_workdays,
        measured.due_date,
        measured.due_calendar_source,
        measured.is_done,
        measured.workdays_used,
        greatest(measured.workdays_used - measured.limit_workdays, 0) as workdays_overdue,
        case
            when measured.due_date is null then 'no_calendar'
            when measured.is_done and measured.done_date > measured.due_date then 'late'
            when measured.is_done then 'on_time'
            when measured.as_of_date > measured.due_date then 'open_overdue'
            else 'open'
        end as status,
        coalesce(
            (measured.is_done and measured.done_date > measured.due_date)
            or (not measured.is_done and measured.as_of_date > measured.due_date),
            false
        ) as is_breach,
        measured.responsible_department_code,
        measured.delivered_department_code,
        measured.is_department_code_unknown,
        departments.name_zh as responsible_department_name,
        departments.kind as responsible_department_kind,
        departments.region_code as responsible_region_code,
        measured.as_of_date
    from measured
    left join departments
        on measured.responsible_department_code = departments.code

)

select * from final
