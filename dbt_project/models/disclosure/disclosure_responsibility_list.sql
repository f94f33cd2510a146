-- grain: one row per trading category x industry (监管权力和责任清单, published to the public)
-- From the office's seed reference.responsibility_list, with Chinese labels; the
-- supervising department is named by kind (each prefecture has its own department of that kind).
{{ config(alias='responsibility_list') }}

with responsibility_list as (

    select * from {{ ref('responsibility_list') }}

),

departments as (

    select * from {{ ref('departments') }}

),

provincial as (

    select
        departments.kind,
        departments.name_zh
    from departments
    where departments.region_code = '530000'

),

final as (

    select
        responsibility_list.category,
        case responsibility_list.category
            when 'construction' then '工程建设'
            when 'government_procurement' then '政府采购'
            when 'land' then '土地使用权'
            when 'mining_rights' then '矿业权'
            when 'state_assets' then '国有产权'
            else '其他'
        end as category_zh,
        responsibility_list.industry,
        case responsibility_list.industry
            when 'housing' then '房屋建筑和市政'
            when 'transport' then '交通运输'
            when 'water' then '水利'
            when 'agriculture' then '农业农村'
            when 'natural_resources' then '自然资源'
            when 'medical' then '医疗卫生'
            else '其他'
        end as industry_zh,
        responsibility_list.department_kind,
        case responsibility_list.department_kind
            when 'development-reform' then '发展改革部门'
            when 'finance' then '财政部门'
            when 'housing' then '住房城乡建设部门'
            when 'transport' then '交通运输部门'
            when 'water' then '水利部门'
            when 'agriculture' then '农业农村部门'
            when 'natural-resources' then '自然资源部门'
            when 'audit' then '审计部门'
            when 'discipline-inspection' then '纪检监察机关'
            when 'public-security' then '公安机关'
            when 'trading-centre' then '公共资源交易中心'
        end as department_kind_zh,
        provincial.name_zh as provincial_department_name,
        responsibility_list.legal_basis,
        responsibility_list.note
    from responsibility_list
    left join provincial on responsibility_list.department_kind = provincial.kind

)

select * from final
