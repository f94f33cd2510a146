-- grain: one row per pair of bidders (bidder_a < bidder_b) x population (category x prefecture)
-- that bid together at least once: how often they bid together against what chance predicts.
-- Expected co-bids E = N * p_a * p_b, with p = the bidder's participation rate (lots bid / N)
-- in the population of N lots. p_value = P(X >= observed) for the number X of joint lots of
-- two bidders choosing their lots independently: X ~ Hypergeometric(N, K = lots of a,
-- n = lots of b), whose mean is that E (exact for small populations, where a Poisson
-- approximation is far too lenient).
-- Each bidder of a lot carries its population's N and its own counts into the self-join (no
-- join of the pairs back to per-bidder counts: misestimated, that join multiplied the bidders
-- of a population by each other), and the tail of the p-value is summed per pair in a
-- subquery reading ln k! from an array (no joins per term).
{{ config(
    pre_hook=["set local work_mem = '256MB'"],
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
        count(*) filter (where b.won) as joint_wins_b
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

tails as (

    select
        e.*,
        tail.p_value
    from tail_lengths as e
    cross join lateral (
        select
            least(1, sum(exp(
                f.ln_facts[e.n_lots_a + 1] + f.ln_facts[e.n_lots - e.n_lots_a + 1]
                + f.ln_facts[e.n_lots_b + 1] + f.ln_facts[e.n_lots - e.n_lots_b + 1]
                - f.ln_facts[e.n_lots + 1]
                - f.ln_facts[t.k + 1] - f.ln_facts[e.n_lots_a - t.k + 1] - f.ln_facts[e.n_lots_b - t.k + 1]
                - f.ln_facts[e.n_lots - e.n_lots_a - e.n_lots_b + t.k + 1]
            ))) as p_value
        from ln_factorials as f
        cross join
            generate_series(e.observed, least(e.n_lots_a, e.n_lots_b, e.observed + e.n_terms - 1)) as t (k)
        where e.observed >= 2 and e.observed > e.expected
    ) as tail

),

final as (

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
        coalesce(p_value, 1.0) as p_value,
        -- evidence of a recurring pair, -log10 p, counted from the second joint lot on (meeting
        -- once is what any two bidders of a lot do, however rare they are)
        case when observed >= {{ var('net_min_cobids', 2) }}
                then least(15, -log(greatest(coalesce(p_value, 1.0), 1e-15)))
            else 0
        end as surprise,
        observed >= {{ var('net_min_cobids', 2) }}
        and coalesce(p_value, 1) < {{ var('net_pair_max_p', 0.001) }} as is_recurrent
    from tails

)

select * from final
