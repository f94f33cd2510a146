-- grain: one row per rule_id x item_id (an item that runs against a time limit in working days)

{# Every act that must happen within a number of working days, as one list:
   - tl_complaint_forward_late  complaint received -> forwarded (转办), by the receiving department
                                (not when the receiving department accepted it itself);
   - tl_complaint_answer_late   complaint accepted -> feedback (答复), by the handling department;
   - tl_guest_notice_late       decision on an expert of a remote cross-site evaluation
                                -> copied to the guest site (抄送评标客场), by the deciding department;
   - tl_publicity_late          evaluation report -> candidates publicised (中标候选人公示) within 3
                                calendar days, for at least 3 (实施条例第54条; tendered lots), answerable:
                                the lot's supervising department (responsibility list).
   The complaint limits can be set per jurisdiction (regions seed); empty = the project var. #}

with complaints as (

    select * from {{ ref('stg_trading_centre__complaints') }}

),

cases as (

    select * from {{ ref('stg_trading_centre__cases') }}

),

tenders as (

    select * from {{ ref('stg_trading_centre__tenders') }}

),

-- not materialized: read for a few expert-lot pairs (by index); a materialized copy of all
-- 14 M rows (scale 16) cost 7 of this model's 13.6 s
evaluations as not materialized (

    select * from {{ ref('stg_trading_centre__evaluations') }}

),

awards as (

    select * from {{ ref('stg_trading_centre__awards') }}

),

assignments as (

    select * from {{ ref('int_tenders_assigned_to_departments') }}

),

departments as (

    select * from {{ ref('departments') }}

),

regions as (

    select * from {{ ref('regions') }}

),

-- department codes as delivered, resolved to departments (null = unknown code)
codes as (

    select * from {{ ref('int_department_codes_resolved') }}

),

received_codes as (

    select
        item_id,
        delivered_code,
        department_code
    from codes
    where item_type = 'complaint' and code_role = 'received_by'

),

forwarded_codes as (

    select
        item_id,
        delivered_code,
        department_code
    from codes
    where item_type = 'complaint' and code_role = 'forwarded_to'

),

decided_codes as (

    select
        item_id,
        delivered_code,
        department_code
    from codes
    where item_type = 'case' and code_role = 'decided_by'

),

department_limits as (

    select
        departments.code as department_code,
        regions.complaint_forward_workdays,
        regions.complaint_answer_workdays
    from departments
    inner join regions
        on departments.region_code = regions.region_code

),

complaint_forwarding as (

    select
        'tl_complaint_forward_late' as rule_id,
        'complaint' as item_type,
        complaints.complaint_id as item_id,
        complaints.tender_id,
        complaints.received_at as start_at,
        {{ local_date('complaints.received_at') }} as start_date,
        complaints.forwarded_at as done_at,
        {{ local_date('complaints.forwarded_at') }} as done_date,
        coalesce(department_limits.complaint_forward_workdays, {{ var('complaint_forward_workdays') }})
            as limit_workdays,
        received_codes.department_code as responsible_department_code,
        complaints.received_by as delivered_department_code,
        'workdays' as limit_unit,
        null::integer as period_days
    from complaints
    left join received_codes on complaints.complaint_id = received_codes.item_id
    left join department_limits
        on received_codes.department_code = department_limits.department_code
    where complaints.received_at is not null
        -- a department that accepted a complaint itself, without forwarding it, had nothing to forward
        and not (
            complaints.forwarded_to is null
            and complaints.forwarded_at is null
            and complaints.accepted_at is not null
        )

),

complaint_answers as (

    select
        'tl_complaint_answer_late' as rule_id,
        'complaint' as item_type,
        complaints.complaint_id as item_id,
        complaints.tender_id,
        complaints.accepted_at as start_at,
        {{ local_date('complaints.accepted_at') }} as start_date,
        complaints.feedback_at as done_at,
        {{ local_date('complaints.feedback_at') }} as done_date,
        coalesce(department_limits.complaint_answer_workdays, {{ var('complaint_answer_workdays') }})
            as limit_workdays,
        case
            when complaints.forwarded_to is not null then forwarded_codes.department_code
            else received_codes.department_code
        end as responsible_department_code,
        coalesce(complaints.forwarded_to, complaints.received_by) as delivered_department_code,
        'workdays' as limit_unit,
        null::integer as period_days
    from complaints
    left join received_codes on complaints.complaint_id = received_codes.item_id
    left join forwarded_codes on complaints.complaint_id = forwarded_codes.item_id
    left join department_limits
        on case
            when complaints.forwarded_to is not null then forwarded_codes.department_code
            else received_codes.department_code
        end = department_limits.department_code
    where complaints.accepted_at is not null

),

expert_cases as (

    select distinct
        tender_id,
        subject_id as expert_id
    from cases
    where subject_type = 'expert'

),

expert_sites as (

    -- where each expert under a decision sat (evaluations are large: only those pairs)
    select
        evaluations.tender_id,
        evaluations.expert_id,
        min(evaluations.site) as expert_site
    from evaluations
    inner join expert_cases
        on evaluations.tender_id = expert_cases.tender_id
        and evaluations.expert_id = expert_cases.expert_id
    group by evaluations.tender_id, evaluations.expert_id

),

guest_notices as (

    select
        'tl_guest_notice_late' as rule_id,
        'case' as item_type,
        cases.case_id as item_id,
        cases.tender_id,
        cases.decided_at as start_at,
        {{ local_date('cases.decided_at') }} as start_date,
        cases.guest_site_notified_at as done_at,
        {{ local_date('cases.guest_site_notified_at') }} as done_date,
        {{ var('guest_notice_workdays') }} as limit_workdays,
        decided_codes.department_code as responsible_department_code,
        cases.decided_by as delivered_department_code,
        'workdays' as limit_unit,
        null::integer as period_days
    from cases
    inner join tenders
        on cases.tender_id = tenders.tender_id
    left join decided_codes on cases.case_id = decided_codes.item_id
    left join expert_sites
        on cases.tender_id = expert_sites.tender_id
        and cases.subject_id = expert_sites.expert_id
    where cases.subject_type = 'expert'
        and tenders.remote_evaluation
        and cases.decided_at is not null
        -- an expert who sat at the host site concerns no guest site
        and (expert_sites.expert_site is null or expert_sites.expert_site is distinct from tenders.host_site)

),

-- 中标候选人公示 (实施条例第54条): for a tendered lot (open or invited: 依法必须招标), the
-- candidates are publicised within 3 days of the evaluation report (the day the committee
-- evaluated: the last evaluation) and for at least 3 days; days counted as the 民法典 does
-- (第201条: the first day not counted), so a report on Mon is due by Thu, and a publicity
-- from Mon to Thu lasts 3 days
-- (int_tender_report_dates: kept per lot and recomputed for the lots a night's evaluations
-- name, not grouped from every evaluation of the history each night)
report_dates as (

    select * from {{ ref('int_tender_report_dates') }}

),

publicity as (

    select
        'tl_publicity_late' as rule_id,
        'tender' as item_type,
        awards.tender_id as item_id,
        awards.tender_id,
        report_dates.reported_at as start_at,
        {{ local_date('report_dates.reported_at') }} as start_date,
        awards.publicity_start::timestamptz as done_at,
        awards.publicity_start as done_date,
        {{ var('publicity_report_days', 3) }} as limit_workdays,
        coalesce(assignments.supervising_department_code, assignments.trading_centre_code)
            as responsible_department_code,
        null::text as delivered_department_code,
        'calendar_days' as limit_unit,
        awards.publicity_end - awards.publicity_start as period_days
    from awards
    inner join report_dates
        on awards.tender_id = report_dates.tender_id
    inner join tenders
        on awards.tender_id = tenders.tender_id
    left join assignments
        on awards.tender_id = assignments.tender_id
    where tenders.procurement_method in ('open', 'invited')

),

unioned as (

    select * from complaint_forwarding
    union all
    select * from complaint_answers
    union all
    select * from guest_notices
    union all
    select * from publicity

),

-- never an item routed nowhere: a department code the feed delivered that resolves to no
-- department goes to the lot's supervising department (else its trading centre, else the
-- provincial one), flagged, and the code is listed in fct_unknown_department_codes
final as (

    select
        unioned.rule_id,
        unioned.item_type,
        unioned.item_id,
        unioned.tender_id,
        unioned.start_at,
        unioned.start_date,
        unioned.done_at,
        unioned.done_date,
        unioned.limit_workdays,
        unioned.limit_unit,
        unioned.period_days,
        coalesce(
            unioned.responsible_department_code,
            assignments.supervising_department_code,
            assignments.trading_centre_code,
            '530000-GGZY'
        ) as responsible_department_code,
        unioned.delivered_department_code,
        unioned.delivered_department_code is not null and unioned.responsible_department_code is null
            as is_department_code_unknown
    from unioned
    left join assignments on unioned.tender_id = assignments.tender_id

)

select * from final
