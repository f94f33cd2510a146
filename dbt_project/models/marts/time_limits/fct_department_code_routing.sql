-- grain: one row per delivered department code x department it was routed to
{# Every department code the trading-centre feed delivered (complaints received_by /
   forwarded_to, cases decided_by) and where it was routed (int_department_codes_resolved).
   A code no department matches has department_code null: its not_null test fails the build
   (error), and the 数据运行 dashboard lists it, while the items themselves went to the lot's
   supervising department (int_time_limit_items_unioned). Register the code in
   seeds/department_code_aliases.csv (or fix the feed) and the next run routes it. #}

with codes as (

    select * from {{ ref('int_department_codes_resolved') }}

),

departments as (

    select * from {{ ref('departments') }}

),

final as (

    select
        codes.delivered_code,
        codes.abbreviation,
        codes.department_code,
        min(departments.name_zh) as department_name_zh,
        min(codes.resolved_by) as resolved_by,
        bool_or(codes.is_unknown) as is_unknown,
        case when bool_or(codes.is_unknown) then '未识别：未路由到任何部门' else '已识别' end as status_zh,
        count(*) as n_references,
        count(distinct codes.item_id) filter (where codes.item_type = 'complaint') as n_complaints,
        count(distinct codes.item_id) filter (where codes.item_type = 'case') as n_cases,
        string_agg(distinct codes.code_role, ', ') as code_roles,
        (array_agg(codes.item_type || ':' || codes.item_id order by codes.item_id))[1:5] as example_items
    from codes
    left join departments on codes.department_code = departments.code
    group by codes.delivered_code, codes.abbreviation, codes.department_code

)

select * from final
