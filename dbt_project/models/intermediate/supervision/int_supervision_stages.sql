-- grain: one row per object_type x object_id x stage the object entered (alert or clue)
-- Handling deadlines (处理时限) of the lifecycle stages in reference.supervision_stage_limits:
-- a stage starts the first time the object enters one of its from_statuses and ends the
-- first time after that it reaches one of its done_statuses. Counted like the other time
-- limits (fct_time_limits): working days of int_workdays, the start day not counted.
{{ config(materialized='view') }}

with limits as (

    select
        stage,
        object_type,
        stage_zh,
        limit_workdays,
        value_source,
        source_doc,
        string_to_array(from_statuses, ';') as from_statuses,
        string_to_array(done_statuses, ';') as done_statuses
    from {{ ref('supervision_stage_limits') }}

),

alerts as (

    select * from {{ source('alerts', 'alerts') }}

),

alert_events as (

    select * from {{ source('supervision', 'alert_events') }}

),

clues as (

    select * from {{ source('supervision', 'clues') }}

),

clue_events as (

    select * from {{ source('supervision', 'clue_events') }}

),

-- every status an object reached, when, and who moved it
timeline as (

    select
        'alert' as object_type,
        alert_id as object_id,
        'new' as to_status,
        raised_at as event_at,
        'ggzy sync' as actor
    from alerts
    union all
    select
        'alert' as object_type,
        alert_id as object_id,
        to_status,
        at as event_at,
        actor
    from alert_events
    where event = 'status'
    union all
    select
        'clue' as object_type,
        clue_id as object_id,
        'registered' as to_status,
        registered_at as event_at,
        registered_by as actor
    from clues
    union all
    select
        'clue' as object_type,
        clue_id as object_id,
        to_status,
        at as event_at,
        actor
    from clue_events
    where event = 'status'

),

started as (

    select
        limits.stage,
        limits.object_type,
        timeline.object_id,
        min(timeline.event_at) as start_at
    from limits
    inner join timeline
        on
        limits.object_type = timeline.object_type
        and timeline.to_status = any(limits.from_statuses)
    group by limits.stage, limits.object_type, timeline.object_id

),

ended as (

    select
        started.stage,
        started.object_id,
        min(timeline.event_at) as end_at
    from started
    inner join limits on started.stage = limits.stage
    inner join timeline
        on
        started.object_type = timeline.object_type
        and started.object_id = timeline.object_id
        and timeline.to_status = any(limits.done_statuses)
        and started.start_at <= timeline.event_at
    group by started.stage, started.object_id

),

dated as (

    select
        started.object_type,
        started.object_id,
        started.stage,
        limits.stage_zh,
        limits.limit_workdays,
        limits.value_source,
        limits.source_doc,
        started.start_at,
        ended.end_at,
        {{ local_date('started.start_at') }} as start_date,
        {{ local_date('ended.end_at') }} as done_date,
        {{ handling_as_of() }} as handling_as_of
    from started
    inner join limits on started.stage = limits.stage
    left join ended
        on started.stage = ended.stage and started.object_id = ended.object_id

),

-- not inlined: final reads due_date and workdays_used six times, and each reference would
-- look the calendar up again (scale 16: the view's 85,846 alerts read int_workdays 8 times
-- per row, 1.4 s of every read and of every test on this view and fct_alert_handling)
measured as materialized (

    select
        dated.*,
        {{ add_workdays('dated.start_date', 'dated.limit_workdays') }} as due_date,
        {{ workdays_between('dated.start_date', 'coalesce(dated.done_date, dated.handling_as_of)') }}
            as workdays_used
    from dated

),

final as (

    select
        object_type,
        object_id,
        stage,
        stage_zh,
        limit_workdays,
        value_source,
        source_doc,
        start_at,
        end_at,
        start_date,
        due_date,
        done_date,
        end_at is not null as is_done,
        workdays_used,
        greatest(workdays_used - limit_workdays, 0) as workdays_overdue,
        case
            when due_date is null then 'no_calendar'
            when done_date > due_date then 'late'
            when done_date is not null then 'on_time'
            when handling_as_of > due_date then 'open_overdue'
            else 'open'
        end as stage_status,
        coalesce(done_date > due_date or (done_date is null and handling_as_of > due_date), false) as is_breach,
        handling_as_of
    from measured

)

select * from final
