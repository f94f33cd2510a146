-- grain: one row per alert x handling stage entered (alert_acknowledge, alert_verify, alert_transfer)
-- How departments handle alerts (预警处置), for leaders (the Superset role cannot read ops):
-- each stage with its working-day limit, due date, when it was done and by whom, and
-- whether it is late or open past its due date; the alert's notification and clue.
-- A view: alerts change during the day, and the deadlines run on today's date.
{{ config(materialized='view') }}

with stages as (

    select * from {{ ref('int_supervision_stages') }}
    where object_type = 'alert'

),

alerts as (

    select * from {{ source('alerts', 'alerts') }}

),

alert_events as (

    select * from {{ source('supervision', 'alert_events') }}

),

notifications as (

    select * from {{ source('supervision', 'alert_notifications') }}

),

clues as (

    select * from {{ source('supervision', 'clues') }}

),

rules as (

    select
        rule_id,
        name_zh
    from {{ ref('dim_risk_rules') }}
    union all
    select
        rule_id,
        name_zh
    from {{ ref('tracking_rules') }}

),

departments as (

    select * from {{ ref('departments') }}

),

-- who ended each stage: the person who made the status change that ended it (the first such
-- change of that instant), per alert and instant, joined to the stage by its end_at. Not a
-- lookup per stage: that read the stages twice, and the planner then took them for a
-- handful of rows (scale 16: every test on this view recomputed it in 4-6 s)
stage_actors as (

    select distinct on (alert_id, at)
        alert_id,
        at as end_at,
        actor as done_by
    from alert_events
    where event = 'status'
    order by alert_id, at, event_id

),

final as (

    select
        alerts.alert_id,
        alerts.rule_id,
        rules.name_zh as rule_name_zh,
        alerts.severity,
        case alerts.severity when 'high' then '高' when 'medium' then '中' else '低' end as severity_zh,
        alerts.subject_type,
        alerts.subject_id,
        alerts.tender_id,
        alerts.department_code,
        departments.name_zh as department_name,
        left(alerts.department_code, 6) as department_region_code,
        alerts.status as alert_status,
        case alerts.status
            when 'new' then '待签收'
            when 'acknowledged' then '核查中'
            when 'verified' then '已查实'
            when 'dismissed' then '已排除'
            when 'transferred' then '已移送'
        end as alert_status_zh,
        alerts.is_active,
        alerts.raised_at,
        stages.stage,
        stages.stage_zh,
        stages.limit_workdays,
        stages.value_source,
        stages.start_at,
        stages.start_date,
        stages.due_date,
        stages.end_at,
        stages.done_date,
        stage_actors.done_by,
        stages.workdays_used,
        stages.workdays_overdue,
        -- an open stage of an alert whose signal is gone no longer runs
        case when not alerts.is_active and not stages.is_done then 'cleared' else stages.stage_status end
            as stage_status,
        case
            when not alerts.is_active and not stages.is_done then '信号已消除'
            when stages.stage_status = 'late' then '超期办结'
            when stages.stage_status = 'on_time' then '按期办结'
            when stages.stage_status = 'open_overdue' then '超期未办'
            when stages.stage_status = 'open' then '办理中'
            else '日历外'
        end as stage_status_zh,
        stages.is_breach and (alerts.is_active or stages.is_done) as is_breach,
        notifications.sent_at as notified_at,
        coalesce(notifications.delivered, false) as is_notified,
        clues.clue_id,
        stages.handling_as_of
    from stages
    inner join alerts on stages.object_id = alerts.alert_id
    left join stage_actors
        on stages.object_id = stage_actors.alert_id and stages.end_at = stage_actors.end_at
    left join rules on alerts.rule_id = rules.rule_id
    left join departments on alerts.department_code = departments.code
    left join notifications on alerts.alert_id = notifications.alert_id
    left join clues on clues.source_type = 'alert' and alerts.alert_id = clues.source_id

)

select * from final
