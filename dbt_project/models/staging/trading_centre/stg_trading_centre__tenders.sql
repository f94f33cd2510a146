-- grain: one row per tender_id (newest delivered version)
-- tender lot (标段) versions; source raw.trading_centre__tenders (tenders.csv of the trading_centre feed)
with source as (

    select * from {{ source('trading_centre', 'tenders') }}

),

typed as (

    select
        nullif(trim(tender_id), '') as tender_id,
        project_code as project_code_raw,
        {{ normalize_project_code('project_code') }} as project_code,
        nullif(trim(tender_name), '') as tender_name,
        nullif(trim(category), '') as category,
        nullif(trim(industry), '') as industry,
        trim(region_code) as region_code,
        upper(trim(tenderer_id)) as tenderer_id,
        upper(trim(agency_id)) as agency_id,
        nullif(trim(procurement_method), '') as procurement_method,
        control_price::numeric(18, 2) as control_price,
        announced_at::timestamptz as announced_at,
        bid_deadline::timestamptz as bid_deadline,
        opened_at::timestamptz as opened_at,
        nullif(trim(evaluation_method), '') as evaluation_method,
        {{ to_bool('evaluation_separated') }} as evaluation_separated,
        {{ to_bool('remote_evaluation') }} as remote_evaluation,
        trim(host_site) as host_site,
        nullif(trim(guest_sites), '') as guest_sites,
        nullif(trim(status), '') as status,
        updated_at::timestamptz as updated_at,
        _batch_date as batch_date,
        _file as source_file,
        _line as source_line,
        _loaded_at as loaded_at,
        _extra as extra_columns
    from source

),

final as (

    select distinct on (tender_id) *
    from typed
    order by tender_id asc, updated_at desc nulls last, batch_date desc, source_line desc

)

select * from final
