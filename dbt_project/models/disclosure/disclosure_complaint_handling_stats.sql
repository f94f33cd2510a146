-- grain: one row per department x month of receipt (投诉举报办理情况统计), as of the analysis date
-- Counts and on-time rates only: nothing about complainants or the content of a complaint.
--   receiving side (受理): complaints received by the department, and how many it forwarded
--     within complaint_forward_workdays working days (received -> forwarded);
--   handling side (办理): complaints forwarded to the department, and how many it answered
--     within complaint_answer_workdays working days (accepted -> feedback).
-- Limits per jurisdiction come from reference.regions (empty = the project var). An item still
-- open after its limit counts as late; one still open within it counts as pending.
{{ config(alias='complaint_handling_stats') }}

with complaints as (

    select * from {{ ref('stg_trading_centre__complaints') }}

),

departments as (

    select * from {{ ref('departments') }}

),

-- the feed names departments by its own codes (JYZX, 530100-ZJJ, ...): counted under the
-- department they resolve to, the delivered code only where it resolves to none
resolved_codes as (

    select * from {{ ref('int_department_codes_resolved') }}
    where item_type = 'complaint'

),

regions as (

    select * from {{ ref('regions') }}

),

received as (

    select
        complaints.complaint_id,
        complaints.kind,
        complaints.outcome,
        {{ local_date('complaints.received_at') }} as received_on,
        {{ local_date('complaints.forwarded_at') }} as forwarded_on,
        {{ local_date('complaints.accepted_at') }} as accepted_on,
        {{ local_date('complaints.feedback_at') }} as feedback_on,
        coalesce(received_by.department_code, complaints.received_by) as received_by,
        coalesce(forwarded_to.department_code, complaints.forwarded_to) as forwarded_to
    from complaints
    left join resolved_codes as received_by
        on complaints.complaint_id = received_by.item_id and received_by.code_role = 'received_by'
    left join resolved_codes as forwarded_to
        on complaints.complaint_id = forwarded_to.item_id and forwarded_to.code_role = 'forwarded_to'
    where {{ local_date('complaints.received_at') }} <= {{ as_of_date() }}

),

limits as (

    select
        departments.code as department_code,
        coalesce(regions.complaint_forward_workdays, {{ var('complaint_forward_workdays') }}) as forward_workdays,
        coalesce(regions.complaint_answer_workdays, {{ var('complaint_answer_workdays') }}) as answer_workdays
    from departments
    left join regions on departments.region_code = regions.region_code

),

forwarding as (

    select
        received.received_by as department_code,
        date_trunc('month', received.received_on)::date as stat_month,
        count(*) as received_count,
        count(*) filter (where received.kind = 'complaint') as complaint_count,
        count(*) filter (where received.kind = 'report') as report_count,
        count(*) filter (
            where received.forwarded_on is not null and received.forwarded_on <= {{ as_of_date() }}
        ) as forwarded_count,
        count(*) filter (
            where
            received.forwarded_on is not null and received.forwarded_on <= {{ as_of_date() }}
            and received.forwarded_on <= {{ add_workdays('received.received_on', 'limits.forward_workdays') }}
        ) as forwarded_on_time_count,
        count(*) filter (
            where
            (received.forwarded_on is null or received.forwarded_on > {{ as_of_date() }})
            and {{ as_of_date() }} <= {{ add_workdays('received.received_on', 'limits.forward_workdays') }}
        ) as forward_pending_count
    from received
    left join limits on received.received_by = limits.department_code
    where received.received_by is not null
    group by 1, 2

),

answering as (

    select
        received.forwarded_to as department_code,
        date_trunc('month', received.received_on)::date as stat_month,
        count(*) as assigned_count,
        count(*) filter (
            where received.feedback_on is not null and received.feedback_on <= {{ as_of_date() }}
        ) as answered_count,
        count(*) filter (
            where
            received.feedback_on is not null and received.feedback_on <= {{ as_of_date() }}
            and received.feedback_on
            <= {{ add_workdays('coalesce(received.accepted_on, received.forwarded_on)', 'limits.answer_workdays') }}
        ) as answered_on_time_count,
        count(*) filter (
            where
            (received.feedback_on is null or received.feedback_on > {{ as_of_date() }})
            and {{ as_of_date() }}
            <= {{ add_workdays('coalesce(received.accepted_on, received.forwarded_on)', 'limits.answer_workdays') }}
        ) as answer_pending_count,
        count(*) filter (where received.outcome in ('upheld', 'partly_upheld')) as upheld_count,
        count(*) filter (where received.outcome = 'rejected') as rejected_count,
        count(*) filter (where received.outcome = 'withdrawn') as withdrawn_count
    from received
    left join limits on received.forwarded_to = limits.department_code
    where received.forwarded_to is not null and received.forwarded_on <= {{ as_of_date() }}
    group by 1, 2

),

keys as (

    select
        department_code,
        stat_month
    from forwarding
    union
    select
        department_code,
        stat_month
    from answering

),

final as (

    select
        keys.stat_month,
        keys.department_code,
        departments.name_zh as department_name,
        coalesce(forwarding.received_count, 0) as received_count,
        coalesce(forwarding.complaint_count, 0) as complaint_count,
        coalesce(forwarding.report_count, 0) as report_count,
        coalesce(forwarding.forwarded_count, 0) as forwarded_count,
        coalesce(forwarding.forwarded_on_time_count, 0) as forwarded_on_time_count,
        coalesce(forwarding.forward_pending_count, 0) as forward_pending_count,
        round(
            100.0 * forwarding.forwarded_on_time_count
            / nullif(forwarding.received_count - forwarding.forward_pending_count, 0),
            1
        ) as forward_on_time_rate_pct,
        coalesce(answering.assigned_count, 0) as assigned_count,
        coalesce(answering.answered_count, 0) as answered_count,
        coalesce(answering.answered_on_time_count, 0) as answered_on_time_count,
        coalesce(answering.answer_pending_count, 0) as answer_pending_count,
        round(
            100.0 * answering.answered_on_time_count
            / nullif(answering.assigned_count - answering.answer_pending_count, 0),
            1
        ) as answer_on_time_rate_pct,
        coalesce(answering.upheld_count, 0) as upheld_count,
        coalesce(answering.rejected_count, 0) as rejected_count,
        coalesce(answering.withdrawn_count, 0) as withdrawn_count,
        {{ as_of_date() }} as as_of_date
    from keys
    left join forwarding
        on keys.department_code = forwarding.department_code and keys.stat_month = forwarding.stat_month
    left join answering
        on keys.department_code = answering.department_code and keys.stat_month = answering.stat_month
    left join departments on keys.department_code = departments.code

)

select * from final
