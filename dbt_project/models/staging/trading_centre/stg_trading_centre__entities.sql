-- grain: one row per entity_id (newest delivered version)
-- market entity (市场主体) versions; source raw.trading_centre__entities (entities.csv of the trading_centre feed)
with source as (

    select * from {{ source('trading_centre', 'entities') }}

),

typed as (

    select
        upper(trim(entity_id)) as entity_id,
        nullif(trim(entity_name), '') as entity_name,
        nullif(trim(entity_role), '') as entity_role,
        nullif(trim(legal_rep_name), '') as legal_rep_name,
        upper(trim(legal_rep_id_no)) as legal_rep_id_no,
        nullif(trim(contact_name), '') as contact_name,
        nullif(trim(contact_phone), '') as contact_phone,
        nullif(trim(address), '') as address,
        trim(region_code) as region_code,
        registered_capital::numeric(18, 2) as registered_capital,
        established_on::date as established_on,
        updated_at::timestamptz as updated_at,
        _batch_date as batch_date,
        _file as source_file,
        _line as source_line,
        _loaded_at as loaded_at,
        _extra as extra_columns
    from source

),

final as (

    select distinct on (entity_id) *
    from typed
    order by entity_id asc, updated_at desc nulls last, batch_date desc, source_line desc

)

select * from final
