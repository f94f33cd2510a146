-- grain: one row per rule x subject, for the statistical screens: price screens (ps_price_screen,
-- per lot), the co-bidding network (net_cobid_ring, net_rotation, per lot) and perennial
-- losers (net_perennial_loser, per entity)
-- The inputs are read where they are used, not materialized (each is read twice: a materialized
-- CTE copied every row and column of a year's bids and lot-pairs, 75 s of a scale-16 night), and
-- only the lots a screen flags are looked up in the bids.

with screens as not materialized (

    select * from {{ ref('int_lot_price_screens') }}

),

network as not materialized (

    select * from {{ ref('int_lot_network_scores') }}

),

bids as not materialized (

    select * from {{ ref('int_bids_joined_to_lots') }}

),

pairs as not materialized (

    select * from {{ ref('int_bidder_pairs_scored') }}

),

firm_lots as not materialized (

    select * from {{ ref('int_lot_bidders') }}

),

flagged_lots as (

    select tender_id
    from screens
    -- unusual against competitive lots of labelled markets and, by its CV, within its own
    -- population: a market whose honest bids are merely tighter than the reference raises no alerts
    where
        screen_score >= {{ var('ps_min_score', 0.999) }}
        and cv_suspicion >= {{ var('ps_min_cv_suspicion', 0.9) }}

),

lot_bidders as (

    select
        tender_id,
        array_agg(distinct bidder_id order by bidder_id) as bidder_ids,
        min(bid_date) as bid_date
    from bids
    where is_valid and bidder_bid_seq = 1 and tender_id in (select flagged_lots.tender_id from flagged_lots)
    group by tender_id

),

price_signals as (

    select
        screens.tender_id,
        lot_bidders.bid_date as signal_date,
        lot_bidders.bidder_ids as entity_ids,
        screens.screen_score as score,
        jsonb_build_object(
            'screen_score', round(screens.screen_score::numeric, 4),
            'threshold', {{ var('ps_min_score', 0.999) }},
            'cv_suspicion_threshold', {{ var('ps_min_cv_suspicion', 0.9) }},
            'n_bids', screens.n_bids,
            'population', screens.population,
            'population_size', screens.population_size,
            'screens', jsonb_build_object(
                {%- for s in ['cv', 'spd', 'diffp', 'rd', 'kurt', 'skew', 'ks'] %}
                '{{ s }}', jsonb_build_object(
                    'value', round(screens.{{ s }}::numeric, 6),
                    'suspicion_percentile', round(screens.{{ s }}_suspicion::numeric, 4)
                    {%- if s in ['cv', 'ks', 'kurt'] %},
                    'strength_vs_competitive_reference', round(screens.{{ s }}_strength::numeric, 4)
                    {%- endif %}
                ){% if not loop.last %},{% endif %}
                {%- endfor %}
            )
        ) as evidence
    from screens
    inner join lot_bidders on screens.tender_id = lot_bidders.tender_id

),

-- the ring lots, read once for both rules: the network's rows are wide (327 MB at scale 16) and
-- each rule scanned them whole
ring_lots as materialized (

    select
        tender_id,
        signal_date,
        ring_member_ids,
        cobid_score,
        recurring_pairs,
        cover_bids,
        n_bidders,
        winner_id,
        rotation_score,
        is_rotation_lot
    from network
    where is_ring_lot

),

ring_signals as (

    select
        tender_id,
        signal_date,
        ring_member_ids as entity_ids,
        least(1.0, cobid_score / 10.0) as score,
        jsonb_build_object(
            'ring_member_ids', to_jsonb(ring_member_ids),
            'cobid_score', round(cobid_score::numeric, 3),
            'recurring_pairs', recurring_pairs,
            'cover_bids', cover_bids,
            'n_bidders', n_bidders
        ) as evidence
    from ring_lots

),

rotation_signals as (

    select
        tender_id,
        signal_date,
        ring_member_ids as entity_ids,
        rotation_score as score,
        jsonb_build_object(
            'winner_id', winner_id,
            'ring_member_ids', to_jsonb(ring_member_ids),
            'rotation_score', round(rotation_score::numeric, 3),
            'recurring_pairs', recurring_pairs
        ) as evidence
    from ring_lots
    where is_rotation_lot

),

-- perennial losers: many lots, no win, mostly in lots won by a recurrent co-bidding partner.
-- A firm's lots are its rows of int_lot_bidders (firm_lots: one per lot and bidder, from all its
-- bids: whether it won, the lot's winner). Only a firm with at least perennial_min_bids lots and
-- none won can be one: only those firms' lots are read (by index), and each lot's winner is looked
-- up among the firm's recurrent pairs by index, instead of grouping every firm's lots and every
-- recurrent pair of the history (24 of the 27 s of this model at scale 16; 1,248 such firms). The
-- firms are found among the lot-bidders, not the bids: grouping every bid of the history twice
-- (the firms, then their lots) read the widest table of the night twice
loser_candidates as (

    select bidder_id
    from firm_lots
    group by bidder_id
    having count(*) >= {{ var('perennial_min_bids', 10) }} and not bool_or(won)

),

-- a lot won by a recurrent partner: its winner and the firm are a recurrent pair (a pair's firms
-- are stored in order, bidder_a < bidder_b); materialized: the firms' counts read partner_id three
-- times, and inlined, each read looked the pair up again
partner_wins as materialized (

    select
        firm_lots.bidder_id,
        firm_lots.tender_id,
        firm_lots.won,
        case
            when exists (
                    select 1
                    from pairs
                    where
                        pairs.is_recurrent
                        and (
                            (pairs.bidder_a = firm_lots.bidder_id and pairs.bidder_b = firm_lots.winner_id)
                            or (pairs.bidder_a = firm_lots.winner_id and pairs.bidder_b = firm_lots.bidder_id)
                        )
                ) then firm_lots.winner_id
        end as partner_id
    from firm_lots
    where firm_lots.bidder_id in (select loser_candidates.bidder_id from loser_candidates)

),

losers as (

    select
        bidder_id,
        count(*) as n_lots,
        count(*) filter (where won) as n_wins,
        count(*) filter (where partner_id is not null) as n_lots_won_by_partner,
        array_agg(distinct partner_id) filter (where partner_id is not null) as partners
    from partner_wins
    group by bidder_id

),

loser_signals as (

    select
        bidder_id,
        -- the firm's last bid (its bids read by index)
        (
            select max(bids.bid_date) from bids
            where bids.bidder_id = losers.bidder_id
        ) as signal_date,
        array[bidder_id] || partners as entity_ids,
        n_lots_won_by_partner::numeric / n_lots as score,
        jsonb_build_object(
            'n_lots', n_lots, 'n_wins', n_wins, 'n_lots_won_by_partner', n_lots_won_by_partner,
            'partner_ids', to_jsonb(partners)
        ) as evidence
    from losers
    where
        n_lots >= {{ var('perennial_min_bids', 10) }}
        and n_wins = 0
        and n_lots_won_by_partner >= {{ var('perennial_partner_share', 0.6) }} * n_lots

),

final as (

    {{ signals_union([
        {'rule_id': "'ps_price_screen'", 'from': 'price_signals', 'score': 'score'},
        {'rule_id': "'net_cobid_ring'", 'from': 'ring_signals', 'score': 'score'},
        {'rule_id': "'net_rotation'", 'from': 'rotation_signals', 'score': 'score'},
        {'rule_id': "'net_perennial_loser'", 'from': 'loser_signals', 'score': 'score',
            'subject_type': "'entity'", 'subject_id': 'bidder_id', 'tender_id': 'null'},
    ]) }}

)

select * from final
