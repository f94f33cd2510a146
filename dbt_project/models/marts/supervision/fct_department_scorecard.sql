-- grain: one row per department_code x period_type x period_start (departments with any activity)

{# 部门履职 scorecard: what each supervising department received and how it handled it,
   by month, quarter, half-year and year. Every activity is dated once (an alert by its
   signal date, a time-limit item by its start date, an inspection by its draw month or
   inspection date, a clue by its registration date) and emits one row per measure it
   counts towards; the rows are then counted in the four periods containing the date, so
   the months add up to the quarter, half-year and year. Definitions of the measures:
   _department_scorecard.yml.
   A view, like the other marts over the office's live case files (fct_alert_handling,
   fct_clues): the night registers clues and sends notifications after dbt has built, so a
   table would lag the case files by a night and change on a rerun of the same batches. #}
{{ config(materialized='view') }}

with alerts as (

    select * from {{ source('alerts', 'alerts') }}

),

alert_handling as (

    select * from {{ ref('fct_alert_handling') }}

),

time_limits as (

    select * from {{ ref('fct_time_limits') }}

),

-- the three kinds of time limit the scorecard reports: complaints (forwarding and
-- answering), award publicity, copies to the guest site of remote evaluation
time_limit_groups as (

    select
        *,
        case rule_id
            when 'tl_complaint_forward_late' then 'complaint'
            when 'tl_complaint_answer_late' then 'complaint'
            when 'tl_publicity_late' then 'publicity'
            when 'tl_guest_notice_late' then 'guest_notice'
        end as item_group
    from time_limits

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

time_limit_measures as (

    select
        time_limits.responsible_department_code as department_code,
        time_limits.start_date as activity_date,
        measures.measure
    from time_limit_groups as time_limits
    cross join
        lateral (
            values
            ('complaint_limit_items', time_limits.item_group = 'complaint'),
            ('complaint_limit_breaches', time_limits.item_group = 'complaint' and time_limits.is_breach),
            ('publicity_limit_items', time_limits.item_group = 'publicity'),
            ('publicity_limit_breaches', time_limits.item_group = 'publicity' and time_limits.is_breach),
            ('guest_notice_limit_items', time_limits.item_group = 'guest_notice'),
            ('guest_notice_limit_breaches', time_limits.item_group = 'guest_notice' and time_limits.is_breach)
        ) as measures (measure, applies)
    where time_limits.responsible_department_code is not null
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

activity as (

    select * from alert_measures
    union all
    select * from time_limit_measures
    union all
    select * from inspection_measures
    union all
    select * from clue_measures

),

dated as (

    select
        *,
        date_trunc('year', activity_date)::date as year_start,
        ((extract(month from activity_date)::int - 1) / 6) * 6 as half_offset_months
    from activity
    where activity_date is not null

),

periods as (

    select
        dated.department_code,
        dated.measure,
        kinds.period_type,
        case kinds.period_type
            when 'month' then date_trunc('month', dated.activity_date)::date
            when 'quarter' then date_trunc('quarter', dated.activity_date)::date
            when 'half' then (dated.year_start + make_interval(months => dated.half_offset_months))::date
            else dated.year_start
        end as period_start
    from dated
    cross join (values ('month'), ('quarter'), ('half'), ('year')) as kinds (period_type)

),

summed as (

    select
        department_code,
        period_type,
        period_start,
        1 + (extract(month from period_start)::int - 1) / 6 as half_of_year,
        count(*) filter (where measure = 'alerts_received') as alerts_received,
        count(*) filter (where measure = 'alerts_acknowledged') as alerts_acknowledged,
        count(*) filter (where measure = 'alerts_verified') as alerts_verified,
        count(*) filter (where measure = 'alerts_dismissed') as alerts_dismissed,
        count(*) filter (where measure = 'alerts_transferred') as alerts_transferred,
        count(*) filter (where measure = 'alerts_open') as alerts_open,
        count(*) filter (where measure = 'alerts_handled_in_time') as alerts_handled_in_time,
        count(*) filter (where measure = 'alerts_overdue') as alerts_overdue,
        count(*) filter (where measure = 'complaint_limit_items') as complaint_limit_items,
        count(*) filter (where measure = 'complaint_limit_breaches') as complaint_limit_breaches,
        count(*) filter (where measure = 'publicity_limit_items') as publicity_limit_items,
        count(*) filter (where measure = 'publicity_limit_breaches') as publicity_limit_breaches,
        count(*) filter (where measure = 'guest_notice_limit_items') as guest_notice_limit_items,
        count(*) filter (where measure = 'guest_notice_limit_breaches') as guest_notice_limit_breaches,
        count(*) filter (where measure = 'inspections_assigned') as inspections_assigned,
        count(*) filter (where measure = 'inspections_done') as inspections_done,
        count(*) filter (where measure = 'inspections_published_on_time') as inspections_published_on_time,
        count(*) filter (where measure = 'inspections_published_late_or_overdue') as inspections_published_late_or_overdue,
        count(*) filter (where measure = 'inspections_with_findings') as inspections_with_findings,
        count(*) filter (where measure = 'clues_opened') as clues_opened,
        count(*) filter (where measure = 'clues_resolved') as clues_resolved,
        count(*) filter (where measure = 'clues_confirmed') as clues_confirmed,
        count(*) filter (where measure = 'clues_unfounded') as clues_unfounded,
        count(*) filter (where measure = 'clues_transferred') as clues_transferred,
        count(*) filter (where measure = 'clue_outcomes_received') as clue_outcomes_received,
        count(*) filter (where measure = 'clues_overdue') as clues_overdue,
        count(*) filter (
            where measure in ('complaint_limit_items', 'publicity_limit_items', 'guest_notice_limit_items')
        ) as time_limit_items,
        count(*) filter (
            where measure in ('complaint_limit_breaches', 'publicity_limit_breaches', 'guest_notice_limit_breaches')
        ) as time_limit_breaches
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
