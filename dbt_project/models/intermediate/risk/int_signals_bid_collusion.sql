-- grain: one row per rule x tender (lot), for the Art. 40 rules (a40_*) found among the bids of one lot
-- Shared traces of the electronic bidding system and improbable price patterns among the bids
-- of a lot: 《招标投标法实施条例》第40条 "视为串通投标". Computed per lot, incrementally, in
-- int_lots_bid_collusion_signals; here its signals without the placeholder rows of the lots
-- where none was found, in the shape of every signal model (test signal_contract).
with lot_signals as (

    select * from {{ ref('int_lots_bid_collusion_signals') }}

),

final as (

    select
        {{ signal_column_names() | join(',\n        ') }}
    from lot_signals
    where rule_id is not null

)

select * from final
