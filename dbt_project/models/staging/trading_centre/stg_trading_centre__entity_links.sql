-- grain: one row per entity_id x link_type x linked_id (newest delivered version)
-- people and companies linked to an entity; source raw.trading_centre__entity_links (entity_links.csv of the trading_centre feed)
with source as (

    select * from {{ source('trading_centre', 'entity_links') }}

),

typed as (

    select
        upper(trim(entity_id)) as entity_id,
        nullif(trim(link_type), '') as link_type,
        upper(trim(linked_id)) as linked_id,
        nullif(trim(linked_name), '') as linked_name,
        share_pct::numeric as share_pct,
        updated_at::timestamptz as updated_at,
        _batch_date as batch_date,
        _file as source_file,
        _line as source_line,
        _loaded_at as loaded_at,
        _extra as extra_columns
    from source

),

final as (

    select distinct on (entity_id, link_type, linked_id) *
    from typed
    order by entity_id asc, link_type asc, linked_id asc, updated_at desc nulls last, batch_date desc, source_line desc

)

select * from final
