-- grain: one row per department_code x period_type x period_start (departments with any activity)

{# 部门履职 scorecard: what each supervising department received and how it handled it,
   by month, quarter, half-year and year. Every activity is dated once (an alert by its
   signal date, a time-limit item by its start date, an inspection by its draw period or
   inspection date) and then counted in the four periods containing that date, so the
   month rows add up to the quarter, half-year and year rows. The definitions of the
   columns are in _department_scorecard.yml. #}

with alerts as (

    select * from {{ source('alerts', 'alerts') }}

),

time_limits as (

    select * from {{ ref('fct_time_limits') }}

),

followup as (

    select * from {{ ref('fct_sampling_followup') }}

),

departments as (

    select * from {{ ref('departments') }}

),

alert_activity as (

    select
        department_code,
        coalesce(signal_date, {{ local_date('raised_at') }}) as activity_date,
        1 as alerts_received,
        (status <> 'new')::int as alerts_acknowledged,
        (status in ('verified', 'transferred'))::int as alerts_verified,
        (status = 'dismissed')::int as alerts_dismissed,
        (status = 'transferred')::int as alerts_transferred,
        (status in ('new', 'acknowledged'))::int as alerts_open,
        0 as complaint_limit_items,
        0 as complaint_limit_breaches,
        0 as publicity_limit_items,
        0 as publicity_limit_breaches,
        0 as guest_notice_limit_items,
        0 as guest_notice_limit_breaches,
        0 as inspections_assigned,
        0 as inspections_done,
        0 as inspections_published_on_time,
        0 as inspections_published_late_or_overdue,
        0 as inspections_with_findings
    from alerts
    where department_code is not null

),

time_limit_activity as (

    select
        responsible_department_code as department_code,
        start_date as activity_date,
        0 as alerts_received,
        0 as alerts_acknowledged,
        0 as alerts_verified,
        0 as alerts_dismissed,
        0 as alerts_transferred,
        0 as alerts_open,
        (rule_id in ('tl_complaint_forward_late', 'tl_complaint_answer_late'))::int as complaint_limit_items,
        (rule_id in ('tl_complaint_forward_late', 'tl_complaint_answer_late') and is_breach)::int
            as complaint_limit_breaches,
        (rule_id = 'tl_publicity_late')::int as publicity_limit_items,
        (rule_id = 'tl_publicity_late' and is_breach)::int as publicity_limit_breaches,
        (rule_id = 'tl_guest_notice_late')::int as guest_notice_limit_items,
        (rule_id = 'tl_guest_notice_late' and is_breach)::int as guest_notice_limit_breaches,
        0 as inspections_assigned,
        0 as inspections_done,
        0 as inspections_published_on_time,
        0 as inspections_published_late_or_overdue,
        0 as inspections_with_findings
    from time_limits
    where responsible_department_code is not null

),

-- a drawn object counts as assigned in its draw period; its inspection, publication and
-- findings count when it was inspected
inspection_activity as (

    select
        lead_department_code as department_code,
        to_date(period || '-01', 'YYYY-MM-DD') as activity_date,
        0 as alerts_received,
        0 as alerts_acknowledged,
        0 as alerts_verified,
        0 as alerts_dismissed,
        0 as alerts_transferred,
        0 as alerts_open,
        0 as complaint_limit_items,
        0 as complaint_limit_breaches,
        0 as publicity_limit_items,
        0 as publicity_limit_breaches,
        0 as guest_notice_limit_items,
        0 as guest_notice_limit_breaches,
        1 as inspections_assigned,
        0 as inspections_done,
        0 as inspections_published_on_time,
        0 as inspections_published_late_or_overdue,
        0 as inspections_with_findings
    from followup
    where lead_department_code is not null
        and period ~ '^\d{4}-\d{2}$'

    union all

    select
        lead_department_code as department_code,
        inspected_on as activity_date,
        0 as alerts_received,
        0 as alerts_acknowledged,
        0 as alerts_verified,
        0 as alerts_dismissed,
        0 as alerts_transferred,
        0 as alerts_open,
        0 as complaint_limit_items,
        0 as complaint_limit_breaches,
        0 as publicity_limit_items,
        0 as publicity_limit_breaches,
        0 as guest_notice_limit_items,
        0 as guest_notice_limit_breaches,
        0 as inspections_assigned,
        (outcome <> 'not_inspected')::int as inspections_done,
        (publication_status = 'published_on_time')::int as inspections_published_on_time,
        (publication_status in ('published_late', 'overdue'))::int as inspections_published_late_or_overdue,
        (outcome in ('issue_found', 'referred'))::int as inspections_with_findings
    from followup
    where lead_department_code is not null
        and inspected_on is not null

),

activity as (

    select * from alert_activity
    union all
    select * from time_limit_activity
    union all
    select * from inspection_activity

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
        dated.*,
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
        sum(alerts_received) as alerts_received,
        sum(alerts_acknowledged) as alerts_acknowledged,
        sum(alerts_verified) as alerts_verified,
        sum(alerts_dismissed) as alerts_dismissed,
        sum(alerts_transferred) as alerts_transferred,
        sum(alerts_open) as alerts_open,
        sum(complaint_limit_items) as complaint_limit_items,
        sum(complaint_limit_breaches) as complaint_limit_breaches,
        sum(publicity_limit_items) as publicity_limit_items,
        sum(publicity_limit_breaches) as publicity_limit_breaches,
        sum(guest_notice_limit_items) as guest_notice_limit_items,
        sum(guest_notice_limit_breaches) as guest_notice_limit_breaches,
        sum(complaint_limit_items + publicity_limit_items + guest_notice_limit_items) as time_limit_items,
        sum(complaint_limit_breaches + publicity_limit_breaches + guest_notice_limit_breaches)
            as time_limit_breaches,
        sum(inspections_assigned) as inspections_assigned,
        sum(inspections_done) as inspections_done,
        sum(inspections_published_on_time) as inspections_published_on_time,
        sum(inspections_published_late_or_overdue) as inspections_published_late_or_overdue,
        sum(inspections_with_findings) as inspections_with_findings,
        1 + (extract(month from period_start)::int - 1) / 6 as half_of_year
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
        summed.complaint_limit_items,
        summed.complaint_limit_breaches,
        summed.publicity_limit_items,
        summed.publicity_limit_breaches,
        summed.guest_notice_limit_items,
        summed.guest_notice_limit_breaches,
        summed.time_limit_items,
        summed.time_limit_breaches,
        round(
            1 - summed.time_limit_breaches::numeric / nullif(summed.time_limit_items, 0), 4
        ) as time_limit_compliance_rate,
        summed.inspections_assigned,
        summed.inspections_done,
        summed.inspections_published_on_time,
        summed.inspections_published_late_or_overdue,
        summed.inspections_with_findings
    from summed
    left join departments
        on summed.department_code = departments.code

)

select * from final
