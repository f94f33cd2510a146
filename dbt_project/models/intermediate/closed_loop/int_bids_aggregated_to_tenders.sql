-- grain: one row per tender_id with at least one bid

with bids as (

    select * from {{ ref('stg_trading_centre__bids') }}

),

final as (

    select
        tender_id,
        count(*) as bid_count,
        count(*) filter (where coalesce(is_valid, true)) as valid_bid_count,
        count(distinct bidder_id) as bidder_count,
        count(distinct bidder_id) filter (where coalesce(is_valid, true)) as valid_bidder_count,
        min(bid_price) filter (where coalesce(is_valid, true)) as lowest_valid_bid_price,
        max(bid_price) filter (where coalesce(is_valid, true)) as highest_valid_bid_price
    from bids
    group by tender_id

)

select * from final
