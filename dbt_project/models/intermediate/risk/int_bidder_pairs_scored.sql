-- grain: one row per pair of bidders (bidder_a < bidder_b) x population that bid together at least
-- once: how often they bid together against what chance predicts. Two populations: the lots of
-- one category x prefecture, and the whole province (category = prefecture_code = '*'), so that a
-- ring spread over many prefectures, meeting rarely in each, is still measured. Province-wide the
-- chance expectation is the sum of the pair's expectations in every category x prefecture where
-- both bid (firms bid where they work: two firms of one prefecture are not a ring because they
-- meet more often than a province-wide draw would have them), the p-value Poisson's upper tail
-- (at least as wide as the sum of hypergeometric counts it stands for).
-- Expected co-bids E = N * p_a * p_b, with p = the bidder's participation rate (lots bid / N)
-- in the population of N lots. p_value = P(X >= observed) for the number X of joint lots of
-- two bidders choosing their lots independently: X ~ Hypergeometric(N, K = lots of a,
-- n = lots of b), whose mean is that E (exact for small populations, where a Poisson
-- approximation is far too lenient).
-- Each bidder of a lot carries its population's N and its own counts into the self-join (no
-- join of the pairs back to per-bidder counts: misestimated, that join multiplied the bidders
-- of a population by each other), and the tail of the p-value is summed per pair in a
-- subquery reading ln k! from an array (no joins per term). Nested loops off: the province-wide
-- pairs join the co-bid counts back by pair, which nested over CTE scans took minutes.
{{ config(
    pre_hook=["set local enable_nestloop = off", "set local work_mem = '256MB'"],
    post_hook=[
        "{{ table_index(this, 'a', 'bidder_a, bidder_b') }}",
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

    select
        category,
        prefecture_code,
        count(*) as n_lots
    from (
        select distinct
            category,
            prefecture_code,
            tender_id
        from lot_bidders
    ) as lots
    group by category, prefecture_code

),

-- every bidder of a lot with the size of its population and its own lots and wins there
-- (lots without a category or prefecture belong to no population)
lot_bidders_counted as (

    select
        lot_bidders.tender_id,
        lot_bidders.bidder_id,
        lot_bidders.category,
        lot_bidders.prefecture_code,
        lot_bidders.won,
        population_sizes.n_lots,
        count(*) over bidder_in_population as n_lots_bid,
        count(*) filter (where lot_bidders.won) over bidder_in_population as n_wins
    from lot_bidders
    inner join population_sizes
        on lot_bidders.category = population_sizes.category
        and lot_bidders.prefecture_code = population_sizes.prefecture_code
    window bidder_in_population as (
        partition by lot_bidders.category, lot_bidders.prefecture_code, lot_bidders.bidder_id
    )

),

co_bids as (

    select
        a.category,
        a.prefecture_code,
        a.bidder_id as bidder_a,
        b.bidder_id as bidder_b,
        min(a.n_lots) as n_lots,
        min(a.n_lots_bid) as n_lots_a,
        min(b.n_lots_bid) as n_lots_b,
        min(a.n_wins) as n_wins_a,
        min(b.n_wins) as n_wins_b,
        count(*) as observed,
        count(*) filter (where a.won) as joint_wins_a,
        count(*) filter (where b.won) as joint_wins_b,
        array_agg(a.tender_id order by a.tender_id) as joint_lot_ids
    from lot_bidders_counted as a
    inner join lot_bidders_counted as b
        on a.tender_id = b.tender_id
        and a.bidder_id < b.bidder_id
    group by a.category, a.prefecture_code, a.bidder_id, b.bidder_id

),

expected as (

    select
        co_bids.*,
        co_bids.n_lots_a::float8 * co_bids.n_lots_b / co_bids.n_lots as expected
    from co_bids

),

-- ln(k!) for every k up to the largest population, as an array: ln_facts[k + 1] = ln(k!)
ln_factorials as materialized (

    select array_agg(ln_fact order by k) as ln_facts
    from (
        select
            k,
            sum(ln(greatest(k, 1))) over (order by k) as ln_fact
        from generate_series(0, (select coalesce(max(n_lots), 0) from population_sizes)) as k
    ) as running

),

-- P(X >= observed) for X ~ Hypergeometric(N lots, K = lots of a, n = lots of b), where it can
-- be small (observed >= 2 and above expected): the terms k = observed .. min(K, n), at most 61
-- of them (past the mode they fall fast; the rest is negligible for a screen), each
-- P(X = k) = exp(ln K! + ln (N-K)! + ln n! + ln (N-n)! - ln N! - ln k! - ln (K-k)! - ln (n-k)!
-- - ln (N-K-n+k)!). The ratio of successive terms P(k+1)/P(k) = (K-k)(n-k)/((k+1)(N-K-n+k+1))
-- falls as k grows, so with r = that ratio at k = observed (r < 1) the terms left out after m
-- terms sum to at most P(observed) r^m / (1 - r): only the m terms that bring this below 1e-12
-- of the sum are added (the p-value exact to 1e-12 relative, from fewer terms)
tail_ratios as (

    select
        e.*,
        (e.n_lots_a - e.observed)::float8 * (e.n_lots_b - e.observed)
        / ((e.observed + 1) * (e.n_lots - e.n_lots_a - e.n_lots_b + e.observed + 1)) as ratio
    from expected as e

),

tail_lengths as (

    select
        tail_ratios.*,
        case
            when tail_ratios.ratio <= 0 then 1
            when tail_ratios.ratio < 1
                then least(61, ceil(ln(1e-12 * (1 - tail_ratios.ratio)) / ln(tail_ratios.ratio)))::bigint
            else 61
        end as n_terms
    from tail_ratios

),

-- the tail's logarithm by log-sum-exp (largest term factored out): ln p stays exact where p
-- itself is below the smallest float (a firm pair meeting hundreds of times more than chance)
tails as (

    select
        e.*,
        tail.ln_p_value
    from tail_lengths as e
    cross join lateral (  -- noqa: ST05
        select least(0.0, max(terms.max_term) + ln(sum(exp(greatest(terms.ln_term - terms.max_term, -700))))) as ln_p_value
        from (  -- noqa: ST05
            select
                term.ln_term,
                max(term.ln_term) over () as max_term
            from ln_factorials as f
            cross join
                generate_series(e.observed, least(e.n_lots_a, e.n_lots_b, e.observed + e.n_terms - 1)) as t (k)
            cross join
                lateral (
                    select
                        f.ln_facts[e.n_lots_a + 1] + f.ln_facts[e.n_lots - e.n_lots_a + 1]
                        + f.ln_facts[e.n_lots_b + 1] + f.ln_facts[e.n_lots - e.n_lots_b + 1]
                        - f.ln_facts[e.n_lots + 1]
                        - f.ln_facts[t.k + 1] - f.ln_facts[e.n_lots_a - t.k + 1] - f.ln_facts[e.n_lots_b - t.k + 1]
                        - f.ln_facts[e.n_lots - e.n_lots_a - e.n_lots_b + t.k + 1] as ln_term
                ) as term
            where e.observed >= 2 and e.observed > e.expected
        ) as terms
    ) as tail

),

local_pairs as (

    select
        category,
        prefecture_code,
        bidder_a,
        bidder_b,
        n_lots,
        n_lots_a,
        n_lots_b,
        n_wins_a,
        n_wins_b,
        observed,
        expected,
        joint_wins_a,
        joint_wins_b,
        -- no tail computed: one joint lot only, or no more joint lots than expected
        coalesce(ln_p_value, 0.0) as ln_p_value,
        1 as n_prefectures,
        joint_lot_ids[1:50] as joint_lot_ids
    from tails

),

-- province-wide: the pairs that met in more than one category x prefecture (elsewhere the
-- province row would repeat the local one), expected = sum over the populations both bid in
bidder_populations as (

    select distinct
        category,
        prefecture_code,
        bidder_id,
        n_lots,
        n_lots_bid
    from lot_bidders_counted

),

spread_pairs as (

    select
        bidder_a,
        bidder_b,
        sum(n_lots_a) as n_lots_a,
        sum(n_lots_b) as n_lots_b,
        sum(n_wins_a) as n_wins_a,
        sum(n_wins_b) as n_wins_b,
        sum(observed) as observed,
        sum(joint_wins_a) as joint_wins_a,
        sum(joint_wins_b) as joint_wins_b,
        count(distinct prefecture_code) as n_prefectures
    from co_bids
    group by bidder_a, bidder_b
    having count(*) >= 2

),

spread_expected as (

    select
        spread_pairs.bidder_a,
        spread_pairs.bidder_b,
        sum(a.n_lots) as n_lots,
        sum(a.n_lots_bid::float8 * b.n_lots_bid / a.n_lots) as expected
    from spread_pairs
    inner join bidder_populations as a on spread_pairs.bidder_a = a.bidder_id
    inner join bidder_populations as b
        on spread_pairs.bidder_b = b.bidder_id
        and a.category = b.category
        and a.prefecture_code = b.prefecture_code
    group by spread_pairs.bidder_a, spread_pairs.bidder_b

),

spread_lots as (

    select
        co_bids.bidder_a,
        co_bids.bidder_b,
        (array_agg(l.tender_id order by l.tender_id))[1:50] as joint_lot_ids
    from co_bids
    inner join spread_pairs on co_bids.bidder_a = spread_pairs.bidder_a and co_bids.bidder_b = spread_pairs.bidder_b
    cross join lateral unnest(co_bids.joint_lot_ids) as l (tender_id)
    group by co_bids.bidder_a, co_bids.bidder_b

),

province_pairs as (

    select
        '*' as category,
        '*' as prefecture_code,
        spread_pairs.bidder_a,
        spread_pairs.bidder_b,
        spread_expected.n_lots,
        spread_pairs.n_lots_a,
        spread_pairs.n_lots_b,
        spread_pairs.n_wins_a,
        spread_pairs.n_wins_b,
        spread_pairs.observed,
        spread_expected.expected,
        spread_pairs.joint_wins_a,
        spread_pairs.joint_wins_b,
        case when spread_pairs.observed >= 2
                then {{ poisson_upper_tail_ln('spread_expected.expected', 'spread_pairs.observed') }}
            else 0.0
        end as ln_p_value,
        spread_pairs.n_prefectures,
        spread_lots.joint_lot_ids
    from spread_pairs
    inner join spread_expected
        on spread_pairs.bidder_a = spread_expected.bidder_a and spread_pairs.bidder_b = spread_expected.bidder_b
    inner join spread_lots
        on spread_pairs.bidder_a = spread_lots.bidder_a and spread_pairs.bidder_b = spread_lots.bidder_b

),

all_pairs as (

    select * from local_pairs
    union all
    select * from province_pairs

),

final as (

    select
        all_pairs.*,
        exp(greatest(all_pairs.ln_p_value, -700)) as p_value,
        -- evidence of a recurring pair, -log10 p, counted from the second joint lot on (meeting
        -- once is what any two bidders of a lot do, however rare they are); not capped: how far
        -- beyond chance a pair meets is what ranks the strongest rings
        case when all_pairs.observed >= {{ var('net_min_cobids', 2) }}
                then -all_pairs.ln_p_value / ln(10.0)
            else 0
        end as surprise,
        all_pairs.observed >= {{ var('net_min_cobids', 2) }}
        and all_pairs.ln_p_value < ln({{ var('net_pair_max_p', 0.001) }}) as is_recurrent
    from all_pairs

)

select * from final
