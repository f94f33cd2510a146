-- grain: one row per pair of bidders (bidder_a < bidder_b) x population (category x prefecture)
-- that bid together at least once: how often they bid together against what chance predicts.
-- Expected co-bids E = N * p_a * p_b, with p = the bidder's participation rate (lots bid / N)
-- in the population of N lots. p_value = P(X >= observed) for the number X of joint lots of
-- two bidders choosing their lots independently: X ~ Hypergeometric(N, K = lots of a,
-- n = lots of b), whose mean is that E (exact for small populations, where a Poisson
-- approximation is far too lenient).
-- (nested loops off: the planner underestimates the self-joins of bids within a lot and would
-- take minutes on a province-year of bids)
{{ config(
    pre_hook=["set local enable_nestloop = off"],
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

    select
        category,
        prefecture_code,
        count(distinct tender_id) as n_lots
    from lot_bidders
    group by category, prefecture_code

),

participation as (

    select
        category,
        prefecture_code,
        bidder_id,
        count(*) as n_lots_bid,
        count(*) filter (where won) as n_wins
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

-- ln(k!) for every k up to the largest population
ln_factorials as (

    select
        k,
        sum(ln(greatest(k, 1))) over (order by k) as ln_fact
    from generate_series(0, (select coalesce(max(n_lots), 0) from population_sizes)) as k

),

-- the pair's constant part of ln P(X = k) for X ~ Hypergeometric(N lots, K = lots of a,
-- n = lots of b): ln K! + ln (N-K)! + ln n! + ln (N-n)! - ln N!
pair_constants as (

    select
        e.category,
        e.prefecture_code,
        e.bidder_a,
        e.bidder_b,
        e.observed,
        e.n_lots,
        e.n_lots_a,
        e.n_lots_b,
        f_k.ln_fact + f_nk.ln_fact + f_n.ln_fact + f_nn.ln_fact - f_all.ln_fact as ln_const
    from expected as e
    inner join ln_factorials as f_k on e.n_lots_a = f_k.k
    inner join ln_factorials as f_nk on e.n_lots - e.n_lots_a = f_nk.k
    inner join ln_factorials as f_n on e.n_lots_b = f_n.k
    inner join ln_factorials as f_nn on e.n_lots - e.n_lots_b = f_nn.k
    inner join ln_factorials as f_all on e.n_lots = f_all.k
    where e.observed >= 2 and e.observed > e.expected

),

-- P(X >= observed): the terms k = observed .. min(K, n), at most 60 of them (past the mode
-- they fall fast; the rest is negligible for a screen)
tail_terms as (

    select
        c.category,
        c.prefecture_code,
        c.bidder_a,
        c.bidder_b,
        exp(c.ln_const - f1.ln_fact - f2.ln_fact - f3.ln_fact - f4.ln_fact) as term
    from pair_constants as c
    cross join lateral generate_series(c.observed, least(c.n_lots_a, c.n_lots_b, c.observed + 60)) as t (k)
    inner join ln_factorials as f1 on t.k = f1.k
    inner join ln_factorials as f2 on c.n_lots_a - t.k = f2.k
    inner join ln_factorials as f3 on c.n_lots_b - t.k = f3.k
    inner join ln_factorials as f4 on c.n_lots - c.n_lots_a - c.n_lots_b + t.k = f4.k

),

tails as (

    select
        category,
        prefecture_code,
        bidder_a,
        bidder_b,
        least(1, sum(term)) as p_value
    from tail_terms
    group by category, prefecture_code, bidder_a, bidder_b

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
        -- no tail computed: one joint lot only, or no more joint lots than expected
        coalesce(tails.p_value, 1.0) as p_value,
        -- evidence of a recurring pair, -log10 p, counted from the second joint lot on (meeting
        -- once is what any two bidders of a lot do, however rare they are)
        case when expected.observed >= {{ var('net_min_cobids', 2) }}
                then least(15, -log(greatest(coalesce(tails.p_value, 1.0), 1e-15)))
            else 0
        end as surprise,
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
