-- grain: one row per contract_id (newest delivered version)
-- contracts; source raw.trading_centre__contracts (contracts.csv of the trading_centre feed)
with source as (

    select * from {{ source('trading_centre', 'contracts') }}

),

typed as (

    select
        nullif(trim(contract_id), '') as contract_id,
        nullif(trim(tender_id), '') as tender_id,
        upper(trim(winner_id)) as winner_id,
        contract_amount::numeric(18, 2) as contract_amount,
        signed_at::timestamptz as signed_at,
        updated_at::timestamptz as updated_at,
        _batch_date as batch_date,
        _file as source_file,
        _line as source_line,
        _loaded_at as loaded_at,
        _extra as extra_columns
    from source

),

final as (

    select distinct on (contract_id) *
    from typed
    order by contract_id asc, updated_at desc nulls last, batch_date desc, source_line desc

)

select * from final
