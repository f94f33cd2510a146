-- grain: one row per department_code x period_type x period_start (departments with any activity)

{# 部门履职 scorecard: what each supervising department received and how it handled it,
   by month, quarter, half-year and year. Every activity is dated once (an alert by its
   signal date, a time-limit item by its start date, an inspection by its draw month or
   inspection date, a clue by its registration date) and emits one row per measure it
   counts towards; the rows are counted by month, and the months added up into the four
   periods containing them, so the months add up to the quarter, half-year and year.
   Definitions of the measures: _department_scorecard.yml.
   A view, like the other marts over the office's live case files (fct_alert_handling,
   fct_clues): the night registers clues and sends notifications after dbt has built, so a
   table would lag the case files by a night and change on a rerun of the same batches.
   The time limits, whose only input is a table dbt builds, are counted once per build in
   fct_department_scorecard_time_limits (by month) rather than here on every read (issue
   #18); the 双随机 inspections stay here: fct_sampling_followup is rebuilt on its own after
   a draw (`path:models/marts/sampling`), and is small. #}
{{ config(materialized='view') }}

with alerts as (

    select * from {{ source('alerts', 'alerts') }}

),

alert_handling as (

    select * from {{ ref('fct_alert_handling') }}

),

time_limits as (

    select * from {{ ref('fct_department_scorecard_time_limits') }}

),

followup as (

    select * from {{ ref('fct_sampling_followup') }}

),

clues as (

    select * from {{ ref('fct_clues') }}

),

departments as (

    select * from {{ ref('departments') }}

),

-- per alert: did any handling stage end, was any stage late or is it open past its due date
alert_deadlines as (

    select
        alert_id,
        bool_or(end_at is not null) as any_stage_done,
        bool_or(is_breach) as any_stage_breached
    from alert_handling
    group by alert_id

),

alert_measures as (

    select
        alerts.department_code,
        coalesce(alerts.signal_date, {{ local_date('alerts.raised_at') }}) as activity_date,
        measures.measure
    from alerts
    left join alert_deadlines
        on alerts.alert_id = alert_deadlines.alert_id
    cross join
        lateral (
            values
            ('alerts_received', true),
            ('alerts_acknowledged', alerts.status <> 'new'),
            ('alerts_verified', {{ alert_is_upheld('alerts.status') }}),
            ('alerts_dismissed', {{ alert_is_dismissed('alerts.status') }}),
            ('alerts_transferred', alerts.status = 'transferred'),
            ('alerts_open', alerts.status in ('new', 'acknowledged')),
            ('alerts_handled_in_time', alert_deadlines.any_stage_done and not alert_deadlines.any_stage_breached),
            ('alerts_overdue', coalesce(alert_deadlines.any_stage_breached, false))
        ) as measures (measure, applies)
    where alerts.department_code is not null
        and measures.applies

),

-- a drawn object counts as assigned in its draw month; its inspection, publication and
-- findings count at the inspection date
inspection_measures as (

    select
        lead_department_code as department_code,
        to_date(period || '-01', 'YYYY-MM-DD') as activity_date,
        'inspections_assigned' as measure
    from followup
    where lead_department_code is not null
        and period ~ '^\d{4}-\d{2}$'

    union all

    select
        followup.lead_department_code as department_code,
        followup.inspected_on as activity_date,
        measures.measure
    from followup
    cross join
        lateral (
            values
            ('inspections_done', followup.outcome <> 'not_inspected'),
            ('inspections_published_on_time', followup.publication_status = 'published_on_time'),
            ('inspections_published_late_or_overdue', followup.publication_status in ('published_late', 'overdue')),
            ('inspections_with_findings', followup.outcome in ('issue_found', 'referred'))
        ) as measures (measure, applies)
    where followup.lead_department_code is not null
        and followup.inspected_on is not null
        and measures.applies

),

clue_measures as (

    select
        clues.lead_department_code as department_code,
        clues.registered_date as activity_date,
        measures.measure
    from clues
    cross join
        lateral (
            values
            ('clues_opened', true),
            ('clues_resolved', clues.status in ('unfounded', 'decided', 'concluded')),
            ('clues_confirmed', clues.status in ('confirmed', 'transferred', 'decided', 'concluded')),
            ('clues_unfounded', clues.status = 'unfounded'),
            ('clues_transferred', clues.n_transfers > 0),
            ('clue_outcomes_received', clues.n_outcomes > 0),
            ('clues_overdue', coalesce(clues.is_overdue, false))
        ) as measures (measure, applies)
    where clues.lead_department_code is not null
        and measures.applies

),

-- the live case files' activities, counted per department, month and measure
live_activity as (

    select * from alert_measures
    union all
    select * from inspection_measures
    union all
    select * from clue_measures

),

live_monthly as (

    select
        department_code,
        date_trunc('month', activity_date)::date as month_start,
        measure,
        count(*) as activities
    from live_activity
    where activity_date is not null
    group by department_code, date_trunc('month', activity_date)::date, measure

),

-- the time limits' monthly counts as the same rows (a measure no item counts towards has none)
time_limit_monthly as (

    select
        time_limits.department_code,
        time_limits.month_start,
        measures.measure,
        measures.activities
    from time_limits
    cross join
        lateral (
            values
            ('complaint_limit_items', time_limits.complaint_limit_items),
            ('complaint_limit_breaches', time_limits.complaint_limit_breaches),
            ('publicity_limit_items', time_limits.publicity_limit_items),
            ('publicity_limit_breaches', time_limits.publicity_limit_breaches),
            ('guest_notice_limit_items', time_limits.guest_notice_limit_items),
            ('guest_notice_limit_breaches', time_limits.guest_notice_limit_breaches)
        ) as measures (measure, activities)
    where measures.activities > 0

),

monthly as (

    select * from live_monthly
    union all
    select * from time_limit_monthly

),

dated as (

    select
        *,
        date_trunc('year', month_start)::date as year_start,
        ((extract(month from month_start)::int - 1) / 6) * 6 as half_offset_months
    from monthly

),

-- each month's count in the month, quarter, half-year and year containing it
periods as (

    select
        dated.department_code,
        dated.measure,
        dated.activities,
        kinds.period_type,
        case kinds.period_type
            when 'month' then dated.month_start
            when 'quarter' then date_trunc('quarter', dated.month_start)::date
            when 'half' then (dated.year_start + make_interval(months => dated.half_offset_months))::date
            else dated.year_start
        end as period_start
    from dated
    cross join (values ('month'), ('quarter'), ('half'), ('year')) as kinds (period_type)

),

-- the months' counts added up; 0 where no month of the period counts towards the measure
summed as (

    select
        department_code,
        period_type,
        period_start,
        1 + (extract(month from period_start)::int - 1) / 6 as half_of_year,
        coalesce(sum(activities) filter (where measure = 'alerts_received'), 0)::bigint as alerts_received,
        coalesce(sum(activities) filter (where measure = 'alerts_acknowledged'), 0)::bigint as alerts_acknowledged,
        coalesce(sum(activities) filter (where measure = 'alerts_verified'), 0)::bigint as alerts_verified,
        coalesce(sum(activities) filter (where measure = 'alerts_dismissed'), 0)::bigint as alerts_dismissed,
        coalesce(sum(activities) filter (where measure = 'alerts_transferred'), 0)::bigint as alerts_transferred,
        coalesce(sum(activities) filter (where measure = 'alerts_open'), 0)::bigint as alerts_open,
        coalesce(sum(activities) filter (where measure = 'alerts_handled_in_time'), 0)::bigint as alerts_handled_in_time,
        coalesce(sum(activities) filter (where measure = 'alerts_overdue'), 0)::bigint as alerts_overdue,
        coalesce(sum(activities) filter (where measure = 'complaint_limit_items'), 0)::bigint as complaint_limit_items,
        coalesce(sum(activities) filter (where measure = 'complaint_limit_breaches'), 0)::bigint as complaint_limit_breaches,
        coalesce(sum(activities) filter (where measure = 'publicity_limit_items'), 0)::bigint as publicity_limit_items,
        coalesce(sum(activities) filter (where measure = 'publicity_limit_breaches'), 0)::bigint as publicity_limit_breaches,
        coalesce(sum(activities) filter (where measure = 'guest_notice_limit_items'), 0)::bigint as guest_notice_limit_items,
        coalesce(sum(activities) filter (
            where measure = 'guest_notice_limit_breaches'
        ), 0)::bigint as guest_notice_limit_breaches,
        coalesce(sum(activities) filter (where measure = 'inspections_assigned'), 0)::bigint as inspections_assigned,
        coalesce(sum(activities) filter (where measure = 'inspections_done'), 0)::bigint as inspections_done,
        coalesce(sum(activities) filter (
            where measure = 'inspections_published_on_time'
        ), 0)::bigint as inspections_published_on_time,
        coalesce(sum(activities) filter (
            where measure = 'inspections_published_late_or_overdue'
        ), 0)::bigint as inspections_published_late_or_overdue,
        coalesce(sum(activities) filter (where measure = 'inspections_with_findings'), 0)::bigint as inspections_with_findings,
        coalesce(sum(activities) filter (where measure = 'clues_opened'), 0)::bigint as clues_opened,
        coalesce(sum(activities) filter (where measure = 'clues_resolved'), 0)::bigint as clues_resolved,
        coalesce(sum(activities) filter (where measure = 'clues_confirmed'), 0)::bigint as clues_confirmed,
        coalesce(sum(activities) filter (where measure = 'clues_unfounded'), 0)::bigint as clues_unfounded,
        coalesce(sum(activities) filter (where measure = 'clues_transferred'), 0)::bigint as clues_transferred,
        coalesce(sum(activities) filter (where measure = 'clue_outcomes_received'), 0)::bigint as clue_outcomes_received,
        coalesce(sum(activities) filter (where measure = 'clues_overdue'), 0)::bigint as clues_overdue,
        coalesce(sum(activities) filter (
            where measure in ('complaint_limit_items', 'publicity_limit_items', 'guest_notice_limit_items')
        ), 0)::bigint as time_limit_items,
        coalesce(sum(activities) filter (
            where measure in ('complaint_limit_breaches', 'publicity_limit_breaches', 'guest_notice_limit_breaches')
        ), 0)::bigint as time_limit_breaches
    from periods
    group by department_code, period_type, period_start

),

final as (

    select
        summed.department_code,
        departments.name_zh as department_name,
        departments.kind as department_kind,
        departments.region_code as department_region_code,
        summed.period_type,
        summed.period_start,
        case summed.period_type
            when 'month' then to_char(summed.period_start, 'YYYY-MM')
            when 'quarter' then to_char(summed.period_start, 'YYYY-"Q"Q')
            when 'half' then to_char(summed.period_start, 'YYYY-"H"') || summed.half_of_year::text
            else to_char(summed.period_start, 'YYYY')
        end as period_key,
        summed.alerts_received,
        summed.alerts_acknowledged,
        summed.alerts_verified,
        summed.alerts_dismissed,
        summed.alerts_transferred,
        summed.alerts_open,
        summed.alerts_handled_in_time,
        summed.alerts_overdue,
        summed.complaint_limit_items,
        summed.complaint_limit_breaches,
        summed.publicity_limit_items,
        summed.publicity_limit_breaches,
        summed.guest_notice_limit_items,
        summed.guest_notice_limit_breaches,
        summed.time_limit_items,
        summed.time_limit_breaches,
        round(1 - summed.time_limit_breaches::numeric / nullif(summed.time_limit_items, 0), 4)
            as time_limit_compliance_rate,
        summed.inspections_assigned,
        summed.inspections_done,
        summed.inspections_published_on_time,
        summed.inspections_published_late_or_overdue,
        summed.inspections_with_findings,
        summed.clues_opened,
        summed.clues_resolved,
        summed.clues_confirmed,
        summed.clues_unfounded,
        summed.clues_transferred,
        summed.clue_outcomes_received,
        summed.clues_overdue
    from summed
    left join departments
        on summed.department_code = departments.code

)

select * from final
