-- grain: one row per bid, with the attributes of its lot and whether it won
{{ config(
    post_hook=[
        "{{ table_index(this, 'tender', 'tender_id') }}",
        "{{ table_index(this, 'bidder', 'bidder_id') }}",
        "analyze {{ this }}",
    ],
) }}

with bids as (

    select * from {{ ref('stg_trading_centre__bids') }}

),

tenders as (

    select * from {{ ref('stg_trading_centre__tenders') }}

),

awards as (

    select * from {{ ref('stg_trading_centre__awards') }}

),

joined as (

    select
        bids.bid_id,
        bids.tender_id,
        bids.bidder_id,
        bids.bid_price,
        bids.submitted_at,
        bids.client_ip,
        bids.client_mac,
        bids.file_maker_code,
        bids.ca_cert_serial,
        bids.bond_account,
        bids.project_manager_id_no,
        -- a bid without a validity verdict counts as valid unless a rejection reason is given
        coalesce(bids.is_valid, bids.rejection_reason is null) as is_valid,
        bids.rejection_reason,
        tenders.category,
        coalesce(tenders.industry, 'other') as industry,
        tenders.region_code,
        -- prefecture (州市) = first four digits of the GB/T 2260 code
        left(tenders.region_code, 4) || '00' as prefecture_code,
        tenders.tenderer_id,
        tenders.procurement_method,
        tenders.evaluation_method,
        tenders.control_price,
        tenders.announced_at,
        tenders.bid_deadline,
        coalesce(
            {{ local_date('bids.submitted_at') }},
            {{ local_date('tenders.bid_deadline') }},
            {{ local_date('tenders.opened_at') }}
        ) as bid_date,
        extract(year from coalesce(
            {{ local_date('tenders.bid_deadline') }},
            {{ local_date('bids.submitted_at') }},
            {{ local_date('tenders.announced_at') }}
        ))::integer as lot_year,
        awards.winner_id,
        awards.award_price,
        awards.awarded_at,
        coalesce(awards.winner_id = bids.bidder_id, false) as is_winner,
        -- a bidder that submitted twice in one lot: its newest bid counts (1 = newest)
        row_number() over (
            partition by bids.tender_id, bids.bidder_id
            order by bids.submitted_at desc nulls last, bids.bid_id desc
        ) as bidder_bid_seq
    from bids
    inner join tenders on bids.tender_id = tenders.tender_id
    left join awards on bids.tender_id = awards.tender_id
    where bids.bidder_id is not null

),

final as (

    select * from joined

)

select * from final
