-- grain: one row per tender_id (newest delivered version)
-- awards (中标/成交); source raw.trading_centre__awards (awards.csv of the trading_centre feed)
with source as (

    select * from {{ source('trading_centre', 'awards') }}

),

typed as (

    select
        nullif(trim(tender_id), '') as tender_id,
        upper(trim(winner_id)) as winner_id,
        award_price::numeric(18, 2) as award_price,
        awarded_at::timestamptz as awarded_at,
        publicity_start::date as publicity_start,
        publicity_end::date as publicity_end,
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
