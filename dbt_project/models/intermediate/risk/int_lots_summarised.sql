-- grain: one row per tender (lot), with its bids counted and its winning bid
{{ config(
    post_hook=[
        "{{ table_index(this, 'tender', 'tender_id', unique=true) }}",
        "analyze {{ this }}",
    ],
) }}

with tenders as (

    select * from {{ ref('stg_trading_centre__tenders') }}

),

awards as (

    select * from {{ ref('stg_trading_centre__awards') }}

),

bids as (

    select * from {{ ref('int_bids_joined_to_lots') }}

),

bid_counts as (

    select
        tender_id,
        count(*) as n_bids,
        count(distinct bidder_id) as n_bidders,
        count(*) filter (where is_valid and bidder_bid_seq = 1) as n_valid_bids,
        count(*) filter (where not is_valid) as n_rejected_bids,
        min(bid_price) as min_bid_price,
        min(bid_price) filter (where is_valid and bidder_bid_seq = 1) as min_valid_bid_price
    from bids
    group by tender_id

),

winning_bids as (

    select distinct on (tender_id)
        tender_id,
        bid_id as winner_bid_id,
        bid_price as winner_bid_price,
        submitted_at as winner_submitted_at,
        is_valid as winner_bid_valid
    from bids
    where is_winner
    order by tender_id, bidder_bid_seq

),

final as (

    select
        tenders.tender_id,
        tenders.project_code,
        tenders.category,
        coalesce(tenders.industry, 'other') as industry,
        tenders.region_code,
        left(tenders.region_code, 4) || '00' as prefecture_code,
        tenders.tenderer_id,
        tenders.agency_id,
        tenders.procurement_method,
        tenders.evaluation_method,
        tenders.control_price,
        tenders.announced_at,
        tenders.bid_deadline,
        tenders.opened_at,
        tenders.status,
        {{ local_date('tenders.announced_at') }} as announced_on,
        {{ local_date('tenders.bid_deadline') }} as deadline_on,
        coalesce(
            {{ local_date('tenders.bid_deadline') }},
            {{ local_date('tenders.opened_at') }},
            {{ local_date('tenders.announced_at') }}
        ) as lot_date,
        extract(year from coalesce(
            {{ local_date('tenders.bid_deadline') }},
            {{ local_date('tenders.opened_at') }},
            {{ local_date('tenders.announced_at') }}
        ))::integer as lot_year,
        coalesce(bid_counts.n_bids, 0) as n_bids,
        coalesce(bid_counts.n_bidders, 0) as n_bidders,
        coalesce(bid_counts.n_valid_bids, 0) as n_valid_bids,
        coalesce(bid_counts.n_rejected_bids, 0) as n_rejected_bids,
        bid_counts.min_bid_price,
        bid_counts.min_valid_bid_price,
        awards.winner_id,
        awards.award_price,
        awards.awarded_at,
        {{ local_date('awards.awarded_at') }} as awarded_on,
        winning_bids.winner_bid_id,
        winning_bids.winner_bid_price,
        winning_bids.winner_submitted_at,
        winning_bids.winner_bid_valid
    from tenders
    left join bid_counts on tenders.tender_id = bid_counts.tender_id
    left join awards on tenders.tender_id = awards.tender_id
    left join winning_bids on tenders.tender_id = winning_bids.tender_id

)

select * from final
