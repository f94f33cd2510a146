-- grain: one row per drawn object whose result is past its publication deadline and unpublished
-- 公开超期预警: inspection results not published within publish_workdays working days.
with followup as (

    select * from {{ ref('fct_sampling_followup') }}

),

final as (

    select
        draw_id,
        plan_id,
        matter,
        period,
        object_type,
        object_id,
        object_name,
        lead_department_code,
        inspected_on,
        publication_due_on,
        as_of_date,
        {{ workdays_between('publication_due_on', 'as_of_date') }} as workdays_overdue
    from followup
    where is_overdue

)

select * from final
