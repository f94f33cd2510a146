-- grain: one row per tender (lot): how much its bidders were a recurring group (co-bidding
-- network) as of its date, and whether the win rotates within that group: the lots with at
-- least two bidders in a population (those with a row in int_bidder_pairs_scored).
-- Each pair of the lot is judged in its category x prefecture and province-wide, as of the lot's
-- date (int_bidder_pairs_scored); the population where the pair is least probable counts, its
-- p-value doubled (Bonferroni over the two tested).
-- Incremental (macros/changed_keys.sql): a lot is recomputed when its pairs' rows were (their
-- fingerprint covers the history up to its date, its bidders, winner and prices); a night
-- fingerprints only the lots int_bidder_pairs_scored recomputed since this model's last build
-- (macros/change_log.sql), not every lot-pair row of the history.
{%- set salt = "'" ~ var('net_min_cobids', 2) ~ "/" ~ var('net_pair_max_p', 0.001) ~ "/"
    ~ var('net_min_lot_score', 3) ~ "/" ~ var('net_min_recurring_share', 1.0) ~ "'" %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='tender_id',
    on_schema_change='fail',
    fingerprint_salt=salt,
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'tender', 'tender_id', unique=true) }}",
    ],
) }}

-- (not materialised: a night reads its lots' pairs by index; materialised, the 12 M pair rows of
-- the history were copied and hashed each night, 324 s of the scale-16 night, now 1.8 s)
with pairs as not materialized (

    select * from {{ ref('int_bidder_pairs_scored') }}

),

lot_bidders as (

    select * from {{ ref('int_lot_bidders') }}

),

{%- set candidates = changed_keys_since_last_build(['int_bidder_pairs_scored']) %}

-- the pairs of the lots that may have changed (on a night, those the pairs model recomputed)
candidate_pairs as (

    select
        tender_id,
        input_fingerprint
    from pairs
    {{ where_candidates(candidates) }}

),

fingerprints as (

    {{ input_fingerprints('candidate_pairs', 'tender_id', ['input_fingerprint'], salt=salt) }}

),

changed as (

    {{ changed_keys('fingerprints', 'tender_id', candidates) }}

),

-- the judged lots' pairs, each in both populations where it has a row
lot_pairs_scored as (

    select
        pairs.tender_id,
        pairs.bidder_a,
        pairs.bidder_b,
        pairs.a_won,
        pairs.b_won,
        pairs.category = '*' as is_province_wide,
        pairs.observed,
        pairs.expected,
        pairs.ln_p_value,
        pairs.calibration,
        pairs.n_prefectures,
        pairs.joint_lot_ids,
        pairs.joint_wins_a,
        pairs.joint_wins_b
    from pairs
    inner join changed on pairs.tender_id = changed.tender_id
    where pairs.tender_id = any(array(select changed_lots.tender_id from changed as changed_lots))

),

judged_bidders as (

    select lot_bidders.*
    from lot_bidders
    inner join changed on lot_bidders.tender_id = changed.tender_id

),

lot_pairs as (

    select distinct on (tender_id, bidder_a, bidder_b)
        tender_id,
        bidder_a,
        bidder_b,
        a_won,
        b_won,
        is_province_wide,
        observed,
        expected,
        exp(greatest(least(0.0, ln_p_value + ln(2.0)), -700)) as p_value,
        case when observed >= {{ var('net_min_cobids', 2) }}
                then greatest(0.0, -(ln_p_value + ln(2.0)) / ln(10.0))
            else 0
        end as surprise,
        observed >= {{ var('net_min_cobids', 2) }}
        and ln_p_value + ln(2.0) < ln({{ var('net_pair_max_p', 0.001) }}) as is_recurrent,
        calibration,
        n_prefectures,
        joint_lot_ids,
        joint_wins_a,
        joint_wins_b
    from lot_pairs_scored
    order by tender_id, bidder_a, bidder_b, ln_p_value, is_province_wide

),

lot_pair_stats as (

    select
        tender_id,
        count(*) as n_pairs,
        count(*) filter (where observed >= {{ var('net_min_cobids', 2) }}) as n_recurring_pairs,
        count(*) filter (where is_recurrent) as n_recurrent_pairs,
        avg(surprise order by bidder_a, bidder_b) as cobid_score,
        -- the most improbable pair, Bonferroni-corrected for the pairs the lot tests (a lot of 100
        -- bidders has 4,950 pairs: its best one is less surprising than the best of 3)
        greatest(0.0, max(surprise) - log(count(*)::numeric)) as max_surprise,
        max(observed) as max_observed,
        jsonb_agg(
            jsonb_build_object(
                'bidders', jsonb_build_array(bidder_a, bidder_b),
                'population', case when is_province_wide then 'province' else 'category x prefecture' end,
                'observed', observed,
                'expected', round(expected::numeric, 4),
                'null_calibration', round(calibration::numeric, 3),
                'p_value', p_value,
                'n_prefectures', n_prefectures,
                'joint_lot_ids', to_jsonb(joint_lot_ids)
            ) order by p_value, bidder_a, bidder_b
        ) filter (where observed >= {{ var('net_min_cobids', 2) }}) as recurring_pairs,
        -- rotation: recurring partners of the winner in this lot that themselves won a joint lot
        count(*) filter (
            where observed >= {{ var('net_min_cobids', 2) }}
            and ((a_won and joint_wins_b >= 1) or (b_won and joint_wins_a >= 1))
        ) as n_rotating_partners,
        array_agg(bidder_a) filter (where observed >= {{ var('net_min_cobids', 2) }}) as recurring_bidders_a,
        array_agg(bidder_b) filter (where observed >= {{ var('net_min_cobids', 2) }}) as recurring_bidders_b
    from lot_pairs
    group by tender_id

),

-- a ring lot: at least 3 bidders, (by default all) of whose pairs bid together before (var
-- net_min_recurring_share) and whose mean surprise (-log10 p over all pairs of the lot) reaches
-- var net_min_lot_score (3: on average p <= 0.001). Bidders that merely meet often in a thin
-- local market, among outsiders, do not make the lot a ring lot; they still raise cobid_score.
lot_scores as (

    select
        lot_pair_stats.*,
        lot_pair_stats.n_pairs >= 3
        and lot_pair_stats.n_recurring_pairs >= {{ var('net_min_recurring_share', 1.0) }} * lot_pair_stats.n_pairs
        and lot_pair_stats.cobid_score >= {{ var('net_min_lot_score', 3) }} as is_ring_candidate
    from lot_pair_stats

),

-- the bidders of the lot's recurring pairs
ring_members as (

    select
        tender_id,
        (
            select array_agg(distinct m.bidder_id order by m.bidder_id)
            from unnest(recurring_bidders_a || recurring_bidders_b) as m (bidder_id)
        ) as ring_member_ids
    from lot_pair_stats
    where recurring_bidders_a is not null

),

-- cover bids: ring members that lost, and how far above the winning bid they priced
cover_bids as (

    select
        ring_members.tender_id,
        jsonb_agg(
            jsonb_build_object(
                'bidder_id', loser.bidder_id,
                'bid_price', loser.bid_price,
                'above_winner_pct', round(100 * (loser.bid_price - winner.bid_price) / nullif(winner.bid_price, 0), 3)
            ) order by loser.bid_price
        ) as cover_bids
    from ring_members
    inner join judged_bidders as winner on ring_members.tender_id = winner.tender_id and winner.won
    inner join judged_bidders as loser
        on ring_members.tender_id = loser.tender_id
        and not loser.won
        and loser.bidder_id = any(ring_members.ring_member_ids)
    where winner.bidder_id = any(ring_members.ring_member_ids)
    group by ring_members.tender_id

),

lot_dates as (

    select
        tender_id,
        min(lot_date) as signal_date,
        min(winner_id) as winner_id,
        count(*) as n_bidders
    from judged_bidders
    group by tender_id

),

final as (

    select
        changed.tender_id,
        lot_dates.signal_date,
        lot_dates.n_bidders,
        lot_dates.winner_id,
        lot_scores.n_pairs,
        lot_scores.n_recurring_pairs,
        lot_scores.n_recurrent_pairs,
        lot_scores.max_observed,
        lot_scores.cobid_score,
        lot_scores.max_surprise,
        -- the lot's strongest pair as a strength 0..1 that does not saturate: s / (s + 10) with s =
        -- -log10 of its most improbable pair's p times the number of pairs (0.001 gives 0.23)
        lot_scores.max_surprise / (lot_scores.max_surprise + 10.0) as network_strength,
        coalesce(ring_members.ring_member_ids, array[]::text[]) as ring_member_ids,
        lot_scores.recurring_pairs,
        cover_bids.cover_bids,
        -- rotation: for a lot won by a member of its recurring group, the strength of the
        -- group (its most improbable pair, Bonferroni-corrected as in network_strength, against
        -- twice var net_min_lot_score, capped at 1: where the null is calibrated to a crowded
        -- market, a lot's mean surprise grows with its number of bidders, its best pair does
        -- not) times how much of the win is seen rotating (0.5 + 0.5 x share of the winner's
        -- partners here that won a joint lot themselves); 0 for other lots. Flagged only where
        -- rotation is observed.
        case when lot_dates.winner_id = any(ring_members.ring_member_ids)
                then least(1.0, lot_scores.max_surprise / (2.0 * {{ var('net_min_lot_score', 3) }}))
                    * (0.5 + 0.5 * least(
                        1.0, lot_scores.n_rotating_partners::float8
                        / greatest(cardinality(ring_members.ring_member_ids) - 1, 1)
                    ))
            else 0
        end as rotation_score,
        lot_scores.is_ring_candidate as is_ring_lot,
        lot_scores.n_rotating_partners >= 1 as is_rotation_lot,
        changed.input_fingerprint
    from changed
    left join lot_dates on changed.tender_id = lot_dates.tender_id
    left join lot_scores on changed.tender_id = lot_scores.tender_id
    left join ring_members on changed.tender_id = ring_members.tender_id
    left join cover_bids on changed.tender_id = cover_bids.tender_id

)

select * from final
