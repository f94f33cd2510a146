-- grain: one row per bid; analyst view of stg_trading_centre__bids with accounts and ID numbers masked
{{ config(alias='bids') }}

with bids as (

    select * from {{ ref('stg_trading_centre__bids') }}

),

final as (

    select
        bid_id,
        tender_id,
        bidder_id,
        bid_price,
        submitted_at,
        client_ip,
        client_mac,
        file_maker_code,
        ca_cert_serial,
        {{ mask_account('bond_account') }} as bond_account,
        bond_paid_at,
        {{ mask_id_no('project_manager_id_no') }} as project_manager_id_no,
        is_valid,
        rejection_reason,
        updated_at,
        batch_date
    from bids

)

select * from final
