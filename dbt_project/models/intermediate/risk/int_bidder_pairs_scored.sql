-- grain: one row per pair of bidders (bidder_a < bidder_b) x population (category x prefecture)
-- that bid together at least once: how often they bid together against what chance predicts.
-- Expected co-bids E = N * p_a * p_b, with p = the bidder's participation rate (lots bid / N)
-- in the population of N lots; p_value = P(X >= observed) for X ~ Poisson(E).
{{ config(
    post_hook=[
        "create index if not exists {{ this.name }}_a_idx on {{ this }} (bidder_a, bidder_b)",
        "analyze {{ this }}",
    ],
) }}

with bids as (

    select * from {{ ref('int_bids_joined_to_lots') }}

),

lot_bidders as (

    select
        tender_id,
        bidder_id,
        min(category) as category,
        min(prefecture_code) as prefecture_code,
        bool_or(is_winner) as won
    from bids
    group by tender_id, bidder_id

),

population_sizes as (

    select category, prefecture_code, count(distinct tender_id) as n_lots
    from lot_bidders
    group by category, prefecture_code

),

participation as (

    select category, prefecture_code, bidder_id, count(*) as n_lots_bid, count(*) filter (where won) as n_wins
    from lot_bidders
    group by category, prefecture_code, bidder_id

),

co_bids as (

    select
        a.category,
        a.prefecture_code,
        a.bidder_id as bidder_a,
        b.bidder_id as bidder_b,
        count(*) as observed,
        count(*) filter (where a.won) as joint_wins_a,
        count(*) filter (where b.won) as joint_wins_b
    from lot_bidders as a
    inner join lot_bidders as b
        on a.tender_id = b.tender_id
        and a.bidder_id < b.bidder_id
    group by a.category, a.prefecture_code, a.bidder_id, b.bidder_id

),

expected as (

    select
        co_bids.*,
        population_sizes.n_lots,
        pa.n_lots_bid as n_lots_a,
        pb.n_lots_bid as n_lots_b,
        pa.n_wins as n_wins_a,
        pb.n_wins as n_wins_b,
        pa.n_lots_bid::float8 * pb.n_lots_bid / population_sizes.n_lots as expected
    from co_bids
    inner join population_sizes
        on co_bids.category = population_sizes.category
        and co_bids.prefecture_code = population_sizes.prefecture_code
    inner join participation as pa
        on co_bids.category = pa.category
        and co_bids.prefecture_code = pa.prefecture_code
        and co_bids.bidder_a = pa.bidder_id
    inner join participation as pb
        on co_bids.category = pb.category
        and co_bids.prefecture_code = pb.prefecture_code
        and co_bids.bidder_b = pb.bidder_id

),

-- Poisson upper tail: summed upwards from the observed count when it exceeds the mean
-- (precise for tiny p), else 1 - the lower sum
tails as (

    select
        expected.category,
        expected.prefecture_code,
        expected.bidder_a,
        expected.bidder_b,
        case
            when expected.observed > expected.expected then (
                select sum(exp(-expected.expected + k * ln(expected.expected) - lnf.v))
                from generate_series(expected.observed, expected.observed + 60) as k
                cross join lateral (select coalesce(sum(ln(i)), 0) as v from generate_series(1, k) as i) as lnf
            )
            else greatest(0, 1 - (
                select coalesce(sum(exp(-expected.expected + k * ln(expected.expected) - lnf.v)), 0)
                from generate_series(0, expected.observed - 1) as k
                cross join lateral (select coalesce(sum(ln(i)), 0) as v from generate_series(1, k) as i) as lnf
            ))
        end as p_value
    from expected
    where expected.observed >= 2

),

final as (

    select
        expected.category,
        expected.prefecture_code,
        expected.bidder_a,
        expected.bidder_b,
        expected.n_lots,
        expected.n_lots_a,
        expected.n_lots_b,
        expected.n_wins_a,
        expected.n_wins_b,
        expected.observed,
        expected.expected,
        expected.joint_wins_a,
        expected.joint_wins_b,
        -- one joint lot is what any two bidders of a lot have: p = P(X >= 1)
        least(1, coalesce(tails.p_value, 1 - exp(-expected.expected))) as p_value,
        least(15, -log(greatest(coalesce(tails.p_value, 1 - exp(-expected.expected)), 1e-15))) as surprise,
        expected.observed >= {{ var('net_min_cobids', 2) }}
        and coalesce(tails.p_value, 1) < {{ var('net_pair_max_p', 0.001) }} as is_recurrent
    from expected
    left join tails
        on expected.category = tails.category
        and expected.prefecture_code = tails.prefecture_code
        and expected.bidder_a = tails.bidder_a
        and expected.bidder_b = tails.bidder_b

)

select * from final
