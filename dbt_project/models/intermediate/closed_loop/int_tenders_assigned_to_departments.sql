-- grain: one row per tender_id

{# Who is answerable for a lot: the supervising department from the responsibility list
    (监管权力和责任清单, category x industry -> kind) in the lot's prefecture, and the
    trading centre of that prefecture. Prefecture = first four digits of region_code + '00'.
    Regions without such a department (e.g. codes outside Yunnan) fall back to the
    provincial department. #}

with tenders as (

    select * from {{ ref('stg_trading_centre__tenders') }}

),

responsibility_list as (

    select * from {{ ref('responsibility_list') }}

),

departments as (

    select * from {{ ref('departments') }}

),

located as (

    select
        tender_id,
        category,
        coalesce(industry, 'other') as industry,
        region_code,
        left(region_code, 4) || '00' as prefecture_code
    from tenders

),

final as (

    select
        located.tender_id,
        located.region_code,
        located.prefecture_code,
        responsibility_list.department_kind as supervising_department_kind,
        coalesce(local_supervisor.code, provincial_supervisor.code) as supervising_department_code,
        coalesce(local_centre.code, provincial_centre.code) as trading_centre_code,
        responsibility_list.legal_basis as supervision_legal_basis
    from located
    left join responsibility_list
        on located.category = responsibility_list.category
        and located.industry = responsibility_list.industry
    left join departments as local_supervisor
        on located.prefecture_code = local_supervisor.region_code
        and responsibility_list.department_kind = local_supervisor.kind
    left join departments as provincial_supervisor
        on provincial_supervisor.region_code = '530000'
        and responsibility_list.department_kind = provincial_supervisor.kind
    left join departments as local_centre
        on located.prefecture_code = local_centre.region_code
        and local_centre.kind = 'trading-centre'
    left join departments as provincial_centre
        on provincial_centre.region_code = '530000'
        and provincial_centre.kind = 'trading-centre'

)

select * from final
