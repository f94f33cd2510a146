-- grain: one row per bid_id (newest delivered version)
-- bids; source raw.trading_centre__bids (bids.csv of the trading_centre feed)
with source as (

    select * from {{ source('trading_centre', 'bids') }}

),

typed as (

    select
        nullif(trim(bid_id), '') as bid_id,
        nullif(trim(tender_id), '') as tender_id,
        upper(trim(bidder_id)) as bidder_id,
        bid_price::numeric(18, 2) as bid_price,
        submitted_at::timestamptz as submitted_at,
        nullif(trim(client_ip), '') as client_ip,
        nullif(trim(client_mac), '') as client_mac,
        nullif(trim(file_maker_code), '') as file_maker_code,
        nullif(trim(ca_cert_serial), '') as ca_cert_serial,
        nullif(trim(bond_account), '') as bond_account,
        bond_paid_at::timestamptz as bond_paid_at,
        upper(trim(project_manager_id_no)) as project_manager_id_no,
        {{ to_bool('is_valid') }} as is_valid,
        nullif(trim(rejection_reason), '') as rejection_reason,
        updated_at::timestamptz as updated_at,
        _batch_date as batch_date,
        _file as source_file,
        _line as source_line,
        _loaded_at as loaded_at,
        _extra as extra_columns
    from source

),

final as (

    select distinct on (bid_id) *
    from typed
    order by bid_id asc, updated_at desc nulls last, batch_date desc, source_line desc

)

select * from final
