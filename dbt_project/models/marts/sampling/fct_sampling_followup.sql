-- grain: one row per drawn object (draw_id, object_type, object_id)
-- Follow-up of each drawn object: its inspectors, the latest recorded result and the
-- publication deadline (publish_workdays working days after the inspection, 10 per the
-- notice), with its status on the analysis date.
with draws as (

    select * from {{ source('sampling', 'draws') }}

),

draw_objects as (

    select * from {{ source('sampling', 'draw_objects') }}

),

draw_inspectors as (

    select * from {{ source('sampling', 'draw_inspectors') }}

),

inspection_results as (

    select * from {{ source('sampling', 'inspection_results') }}

),

sampling_plan as (

    select * from {{ ref('sampling_plan') }}

),

objects as (

    select * from {{ ref('dim_inspection_objects') }}

),

as_of as (

    select {{ as_of_date() }} as as_of_date

),

teams as (

    select
        draw_id,
        object_type,
        object_id,
        count(*) as n_inspectors,
        count(distinct department_code) as n_departments,
        max(department_code) filter (where slot = 1) as lead_department_code
    from draw_inspectors
    group by draw_id, object_type, object_id

),

latest_results as (

    select distinct on (draw_id, object_type, object_id) *
    from inspection_results
    order by draw_id asc, object_type asc, object_id asc, recorded_at desc, result_id desc

),

joined as (

    select
        o.draw_id,
        d.plan_id,
        p.matter,
        d.period,
        o.object_type,
        o.object_id,
        dim.object_name,
        o.stratum,
        o.rank_in_stratum,
        o.weight,
        o.inclusion_probability,
        o.risk_level,
        o.credit_level,
        t.n_inspectors,
        t.n_departments,
        t.lead_department_code,
        r.inspected_on,
        r.outcome,
        r.finding,
        r.published_on,
        coalesce(p.publish_workdays, 10) as publish_workdays,
        coalesce(
            {{ add_workdays('r.inspected_on', 'coalesce(p.publish_workdays, 10)') }},
            r.publication_due_on
        ) as publication_due_on,
        as_of.as_of_date
    from draw_objects as o
    inner join draws as d on o.draw_id = d.draw_id
    cross join as_of
    left join sampling_plan as p on d.plan_id = p.plan_id
    left join teams as t
        on o.draw_id = t.draw_id and o.object_type = t.object_type and o.object_id = t.object_id
    left join latest_results as r
        on o.draw_id = r.draw_id and o.object_type = r.object_type and o.object_id = r.object_id
    left join objects as dim
        on o.object_type = dim.object_type and o.object_id = dim.object_id

),

final as (

    select
        *,
        case
            when inspected_on is null then 'awaiting_inspection'
            when published_on is not null and published_on <= publication_due_on then 'published_on_time'
            when published_on is not null then 'published_late'
            when as_of_date > publication_due_on then 'overdue'
            else 'awaiting_publication'
        end as publication_status,
        (published_on is null and inspected_on is not null and as_of_date > publication_due_on) as is_overdue
    from joined

)

select * from final
