-- grain: one row per department_code x month_start (months in which the department has time-limit items)

{# The time-limit part of the 部门履职 scorecard (fct_department_scorecard), counted once when
   dbt builds it. Its only input, fct_time_limits, is a table dbt itself builds, so counting it
   in the view re-read its whole history every time the scorecard was read or tested (issue
   #18: the view's data tests took 50 s of a scale-16 night); the alerts, clues and inspections
   the view still counts itself, since the office changes them after the night's build. By
   month: the view adds the months up into quarters, half-years and years, as it does its own
   counts, so a period holds each item once. Definitions: _department_scorecard.yml. #}

with time_limits as (

    select * from {{ ref('fct_time_limits') }}

),

-- the three kinds of time limit the scorecard reports: complaints (forwarding and
-- answering), award publicity, copies to the guest site of remote evaluation
time_limit_groups as (

    select
        responsible_department_code as department_code,
        date_trunc('month', start_date)::date as month_start,
        is_breach,
        case rule_id
            when 'tl_complaint_forward_late' then 'complaint'
            when 'tl_complaint_answer_late' then 'complaint'
            when 'tl_publicity_late' then 'publicity'
            when 'tl_guest_notice_late' then 'guest_notice'
        end as item_group
    from time_limits
    where responsible_department_code is not null
        and start_date is not null

),

final as (

    select
        department_code,
        month_start,
        count(*) filter (where item_group = 'complaint') as complaint_limit_items,
        count(*) filter (where item_group = 'complaint' and is_breach) as complaint_limit_breaches,
        count(*) filter (where item_group = 'publicity') as publicity_limit_items,
        count(*) filter (where item_group = 'publicity' and is_breach) as publicity_limit_breaches,
        count(*) filter (where item_group = 'guest_notice') as guest_notice_limit_items,
        count(*) filter (where item_group = 'guest_notice' and is_breach) as guest_notice_limit_breaches
    from time_limit_groups
    where item_group is not null
    group by department_code, month_start

)

select * from final
