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
-- of a population by each other), and the terms of every pair's tail are computed in one pass
-- reading ln k! from an array (no joins per term). Nested loops off: the province-wide
-- pairs join the co-bid counts back by pair, which nested over CTE scans took minutes.
-- Calibration to the market (the null model's fit): where firms work in local markets the data
-- do not name (a regional market whose firms meet in most of their lots; in the converted real
-- markets every lot is one population), far more pairs meet beyond chance than rings could
-- explain: a ring is a handful of firms, a local market is most of them. Under the model at
-- most var net_pair_max_p (0.1 %) of the pairs that could meet twice (both firms with >= 2 lots
-- of a population) recur by chance; var net_max_recurrent_share (0.5 %, five times that) is left
-- for rings. Where more recur, every expectation is multiplied by the smallest factor under
-- which no more than that share does (the pair's p then a Poisson tail of the scaled
-- expectation), as a40 calibrates its chance counts: a crowded regional market is expected to
-- meet, a ring still stands out from it. Judged per population (province-wide: the sum of the
-- calibrated local expectations, so a quiet prefecture's ring is not judged by another's crowd),
-- and only where the share left for rings holds at least var net_calibration_min_pairs (10)
-- pairs, one ring of five: a small market cannot tell its rings from its null. calibration =
-- the factor (1: the null fits, exact hypergeometric p).
{{ config(
    pre_hook=["set local enable_nestloop = off", "set local work_mem = '256MB'"],
    post_hook=[
        "{{ table_index(this, 'a', 'bidder_a, bidder_b') }}",
        "analyze {{ this }}",
    ],
) }}

with recursive bids as (

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

-- per population, the pairs that could meet twice: both firms with >= 2 lots there, and how
-- many of them may recur beyond chance (var net_max_recurrent_share)
recurrence_allowed as (

    select
        category,
        prefecture_code,
        floor(
            {{ var('net_max_recurrent_share', 0.005) }} * count(distinct bidder_id) filter (where n_lots_bid >= 2)
            * (count(distinct bidder_id) filter (where n_lots_bid >= 2) - 1) / 2
        )::bigint as n_allowed
    from lot_bidders_counted
    group by category, prefecture_code

),

-- for each count of joint lots o >= 2 seen: the Poisson mean above which o or more joint lots
-- have chance > var net_pair_max_p (bisection, 40 halvings of [0, o]; high = the upper end)
critical_means (observed, low, high, step) as (

    select distinct
        observed,
        0.0::float8,
        observed::float8,
        0
    from co_bids
    where observed >= 2

    union all

    select
        critical_means.observed,
        case
            when mid.is_improbable then mid.mean
            else critical_means.low
        end,
        case
            when mid.is_improbable then critical_means.high
            else mid.mean
        end,
        critical_means.step + 1
    from critical_means
    cross join
        lateral (  -- noqa: ST05
            select
                (critical_means.low + critical_means.high) / 2 as mean,
                {{ poisson_upper_tail_ln('(critical_means.low + critical_means.high) / 2', 'critical_means.observed') }}
                < ln({{ var('net_pair_max_p', 0.001) }}) as is_improbable
        ) as mid
    where critical_means.step < 40

),

-- each pair's factor on its expectation from which on it no longer recurs (the upper end of the
-- bisection: pairs tied at the critical factor do not recur once it is applied), ranked
pair_factors as (

    select
        co_bids.category,
        co_bids.prefecture_code,
        critical_means.high / (co_bids.n_lots_a::float8 * co_bids.n_lots_b / co_bids.n_lots) as max_factor,
        row_number() over (
            partition by co_bids.category, co_bids.prefecture_code
            order by critical_means.high * co_bids.n_lots / (co_bids.n_lots_a::float8 * co_bids.n_lots_b) desc
        ) as factor_rank
    from co_bids
    inner join critical_means on co_bids.observed = critical_means.observed and critical_means.step = 40

),

-- the population's factor: the (n_allowed + 1)-th largest of its pairs' factors, so that at most
-- n_allowed pairs recur once it is applied; 1 where the null fits or the population is too small
-- to judge (fewer than var net_calibration_min_pairs may recur)
null_calibration as (

    select
        recurrence_allowed.category,
        recurrence_allowed.prefecture_code,
        case when recurrence_allowed.n_allowed >= {{ var('net_calibration_min_pairs', 10) }}
                then greatest(1.0, coalesce(pair_factors.max_factor, 1.0))
            else 1.0
        end as calibration
    from recurrence_allowed
    left join pair_factors
        on recurrence_allowed.category = pair_factors.category
        and recurrence_allowed.prefecture_code = pair_factors.prefecture_code
        and pair_factors.factor_rank = recurrence_allowed.n_allowed + 1

),

expected as (

    select
        co_bids.*,
        co_bids.n_lots_a::float8 * co_bids.n_lots_b / co_bids.n_lots as expected,
        null_calibration.calibration
    from co_bids
    inner join null_calibration
        on co_bids.category = null_calibration.category
        and co_bids.prefecture_code = null_calibration.prefecture_code

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
tail_candidates as (

    select
        e.*,
        (e.n_lots_a - e.observed)::float8 * (e.n_lots_b - e.observed)
        / ((e.observed + 1) * (e.n_lots - e.n_lots_a - e.n_lots_b + e.observed + 1)) as ratio
    from expected as e
    where e.observed >= 2 and e.observed > e.expected and e.calibration = 1.0

),

tail_lengths as (

    select
        tail_candidates.*,
        row_number() over () as tail_id,
        case
            when tail_candidates.ratio <= 0 then 1
            when tail_candidates.ratio < 1
                then least(61, ceil(ln(1e-12 * (1 - tail_candidates.ratio)) / ln(tail_candidates.ratio)))::bigint
            else 61
        end as n_terms
    from tail_candidates

),

-- every term of every tail, ln P(X = k), in one pass over all pairs (a subquery per pair cost
-- its executor start 76,000 times at scale 1; materialised, so that each term is computed here
-- and the sort below does not carry the ln k! array of every row)
tail_terms as materialized (

    select
        e.tail_id,
        e.k,
        f.ln_facts[e.n_lots_a + 1] + f.ln_facts[e.n_lots - e.n_lots_a + 1]
        + f.ln_facts[e.n_lots_b + 1] + f.ln_facts[e.n_lots - e.n_lots_b + 1]
        - f.ln_facts[e.n_lots + 1]
        - f.ln_facts[e.k + 1] - f.ln_facts[e.n_lots_a - e.k + 1] - f.ln_facts[e.n_lots_b - e.k + 1]
        - f.ln_facts[e.n_lots - e.n_lots_a - e.n_lots_b + e.k + 1] as ln_term
    from (
        select
            tail_lengths.*,
            generate_series(
                tail_lengths.observed,
                least(tail_lengths.n_lots_a, tail_lengths.n_lots_b, tail_lengths.observed + tail_lengths.n_terms - 1)
            ) as k
        from tail_lengths
    ) as e
    cross join ln_factorials as f

),

-- the tail's logarithm by log-sum-exp (largest term factored out, the terms summed in order of
-- k): ln p stays exact where p itself is below the smallest float (a firm pair meeting hundreds
-- of times more than chance)
tail_sums as (

    select
        terms.tail_id,
        least(0.0, max(terms.max_term) + ln(sum(exp(greatest(terms.ln_term - terms.max_term, -700)) order by terms.k)))
            as ln_p_value
    from (
        select
            tail_id,
            k,
            ln_term,
            max(ln_term) over (partition by tail_id) as max_term
        from tail_terms
    ) as terms
    group by terms.tail_id

),

-- no tail (null) for the pairs that need none: one joint lot only, no more joint lots than
-- expected, or a calibrated null
tails as (

    select
        expected.*,
        tail_sums.ln_p_value
    from expected
    left join tail_lengths
        on expected.category = tail_lengths.category
        and expected.prefecture_code = tail_lengths.prefecture_code
        and expected.bidder_a = tail_lengths.bidder_a
        and expected.bidder_b = tail_lengths.bidder_b
    left join tail_sums on tail_lengths.tail_id = tail_sums.tail_id

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
        -- no tail computed: one joint lot only, or no more joint lots than expected; where the
        -- null is calibrated, the Poisson tail of the scaled expectation
        case
            when calibration > 1.0 and observed >= 2
                then {{ poisson_upper_tail_ln('calibration * expected', 'observed') }}
            else coalesce(ln_p_value, 0.0)
        end as ln_p_value,
        calibration,
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

-- each spread pair with the populations its first firm bids in (materialised: left to itself the
-- planner joined bidder_populations to itself on the population first, every pair of firms of a
-- population, quadratic in its firms: ~446 M rows and tens of GB of temporary files for the
-- largest population at scale 16), then the second firm's count there by (firm, population)
spread_pair_populations as materialized (

    select
        spread_pairs.bidder_a,
        spread_pairs.bidder_b,
        a.category,
        a.prefecture_code,
        a.n_lots,
        a.n_lots_bid as n_lots_a
    from spread_pairs
    inner join bidder_populations as a on spread_pairs.bidder_a = a.bidder_id

),

spread_expected as (

    select
        p.bidder_a,
        p.bidder_b,
        sum(p.n_lots) as n_lots,
        sum(p.n_lots_a::float8 * b.n_lots_bid / p.n_lots) as expected,
        sum(null_calibration.calibration * p.n_lots_a * b.n_lots_bid / p.n_lots) as calibrated_expected
    from spread_pair_populations as p
    inner join bidder_populations as b
        on p.bidder_b = b.bidder_id
        and p.category = b.category
        and p.prefecture_code = b.prefecture_code
    inner join null_calibration
        on p.category = null_calibration.category
        and p.prefecture_code = null_calibration.prefecture_code
    group by p.bidder_a, p.bidder_b

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
                then {{ poisson_upper_tail_ln('spread_expected.calibrated_expected', 'spread_pairs.observed') }}
            else 0.0
        end as ln_p_value,
        -- the local factors' mean, weighted by the local expectations they scale
        spread_expected.calibrated_expected / spread_expected.expected as calibration,
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
