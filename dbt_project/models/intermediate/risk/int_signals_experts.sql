-- grain: one row per rule x tender (lot), for the evaluation-expert rules (ex_*)
-- (nested loops off, the setting its plans were measured with at scale 16: the arrays of a few
-- experts it reads by index are estimated at a handful of rows; memory for the sorts of a year
-- of expert scores)
{{ config(
    pre_hook=["set local enable_nestloop = off", "set local work_mem = '256MB'"],
) }}

with lots as (

    select * from {{ ref('int_lots_summarised') }}

),

judged as (

    select * from {{ ref('int_expert_scores_judged') }}

),

-- the lots' panels, with the day each expert first scored (incremental: a night groups only
-- the lots whose evaluations changed); not materialised: the affinity reads a few experts'
-- panels by index
panels as not materialized (

    select
        tender_id,
        expert_id,
        evaluated_on
    from {{ ref('int_expert_panels') }}

),

-- the expert-bidder pairs' lots and high-outlier lots, and each expert's totals (bidder_id
-- null) (incremental by expert; not materialised: two scans of the table, the totals and the
-- few pairs with outliers, cost less than a copy of its 2.3 M rows at scale 16)
favour_counts as not materialized (

    select * from {{ ref('int_expert_bidder_pairs_counted') }}

),

-- the expert-winner pairs that met often enough to be tested, and each expert's number of
-- winners met (winner_id null) (incremental by expert; small: read whole)
affinity_counts as not materialized (

    select * from {{ ref('int_expert_winner_pairs_counted') }}

),

-- 回避: an expert whose employer bid for the lot (found per lot in int_lots_employed_experts,
-- incremental: a night compares only the lots whose panel, bids or experts' employers changed)
employed as (

    select
        tender_id,
        min(evaluated_on) as signal_date,
        array_agg(distinct employer_id) as entity_ids,
        array_agg(distinct expert_id) as expert_ids,
        jsonb_agg(distinct jsonb_build_object('expert_id', expert_id, 'employer_id', employer_id)) as items
    from {{ ref('int_lots_employed_experts') }}
    where expert_id is not null
    group by tender_id

),

-- favouritism (评分畸高), in three steps.
-- 1. and 2., per lot, in int_expert_scores_judged (incremental: a night judges only the lots whose
--    evaluations changed): each score against the rest of the panel for that bidder
--    (leave-one-out mean), net of the expert's own leniency in the lot: the excess points; the
--    excess as a robust z-score against that panel's spread on that lot (1.4826 x the MAD of all
--    excesses of the lot, never below var ex_favour_min_spread points); a high outlier at
--    z >= var ex_favour_z.
-- 3. Persistence: an expert-bidder pair is an alert when it is a high outlier
--    (z >= var ex_favour_z) in at least var ex_favour_min_lots of the lots where the expert
--    scored that bidder, more often than chance: p = P(X >= k), X ~ Binomial(n, p0) with p0
--    the share of high outliers among all scores (the data's own null, whatever its tails);
--    Benjamini-Hochberg at var ex_favour_fdr over every pair that met at least
--    var ex_favour_min_lots times (the pairs tested). The counts per pair are kept by expert in
--    int_expert_bidder_pairs_counted; only the favoured pairs' scores are read here.
-- (materialised: the pairs' tests cross-join this one row, and inlined it was recomputed for
-- each pair tested)
favour_null as materialized (

    -- share of high outliers among all scores (sum / sum of the experts' totals: the same
    -- numeric division as the average of every score's 0/1); a floor keeps p0 > 0 on a tiny
    -- clean history. And the number of pairs tested (every pair that met often enough), in the
    -- same pass over the counts (at scale 16, 2.3 M rows: a copy of all of them cost 2 s).
    select
        greatest(
            (
                sum(k_lots) filter (where bidder_id is null)::numeric
                / nullif(sum(n_lots) filter (where bidder_id is null), 0)
            )::float8,
            1e-4
        ) as p0,
        count(*) filter (where bidder_id is not null and n_lots >= {{ var('ex_favour_min_lots', 2) }}) as n_tested
    from favour_counts

),

-- the pairs that can reach the minimum of outlier lots (a few hundred of the 2.2 M tested)
favour_pairs as materialized (

    select
        expert_id,
        bidder_id,
        n_lots,
        k_lots
    from favour_counts
    where
        bidder_id is not null
        and n_lots >= {{ var('ex_favour_min_lots', 2) }}
        and k_lots >= {{ var('ex_favour_min_lots', 2) }}

),

favour_ln_factorials as (

    select
        k,
        sum(ln(greatest(k, 1))) over (order by k) as ln_fact
    from generate_series(0, (select coalesce(max(n_lots), 0) from favour_pairs)) as k

),

-- binomial upper tail P(X >= k_lots), computed for the pairs that can reach the minimum.
-- (This model's float sums add their terms in a fixed order: in the order the rows come in, the
-- last bits would differ between a night's incremental inputs and a full refresh's.)
favour_tests as (

    select
        pairs.expert_id,
        pairs.bidder_id,
        pairs.n_lots,
        pairs.k_lots,
        least(1.0, sum(exp(
            n_fact.ln_fact - j_fact.ln_fact - nj_fact.ln_fact
            + j_fact.k * ln(null_rate.p0) + (pairs.n_lots - j_fact.k) * ln(1 - null_rate.p0)
        ) order by j_fact.k)) as p_value
    from favour_pairs as pairs
    cross join favour_null as null_rate
    inner join favour_ln_factorials as n_fact on pairs.n_lots = n_fact.k
    inner join favour_ln_factorials as j_fact on j_fact.k between pairs.k_lots and pairs.n_lots
    inner join favour_ln_factorials as nj_fact on pairs.n_lots - j_fact.k = nj_fact.k
    group by pairs.expert_id, pairs.bidder_id, pairs.n_lots, pairs.k_lots

),

-- Benjamini-Hochberg step-up over all pairs tested (m). Pairs below the minimum of outlier
-- lots have larger p-values and rank after these, so ranking among these is exact for them.
favour_ranked as (

    select
        favour_tests.*,
        (select favour_null.n_tested from favour_null) as n_tested,
        row_number() over (order by favour_tests.p_value, favour_tests.expert_id, favour_tests.bidder_id) as p_rank
    from favour_tests

),

favour_significant as (

    select
        favour_ranked.*,
        max(case
            when favour_ranked.p_value <= favour_ranked.p_rank::float8 / favour_ranked.n_tested * {{ var('ex_favour_fdr', 0.05) }}
                then favour_ranked.p_rank
        end) over () as max_rank_passing
    from favour_ranked

),

passing as materialized (

    select *
    from favour_significant
    where p_rank <= max_rank_passing

),

-- the passing pairs' outlier scores, read by the judged table's expert x bidder index (the
-- experts as an array: with nested loops off a join would hash every score of the history)
favoured as (

    select
        judged.tender_id,
        judged.expert_id,
        judged.bidder_id,
        judged.evaluated_on,
        judged.score,
        judged.others_mean,
        judged.excess,
        judged.spread,
        judged.z,
        passing.n_lots,
        passing.k_lots,
        passing.p_value,
        passing.n_tested,
        least(1.0, passing.p_value * passing.n_tested / passing.p_rank) as q_value
    from judged
    inner join passing
        on judged.expert_id = passing.expert_id
        and judged.bidder_id = passing.bidder_id
    where
        judged.is_outlier
        and judged.expert_id = any(array(select passing_experts.expert_id from passing as passing_experts))

),

favour_signals as (

    select
        tender_id,
        min(evaluated_on) as signal_date,
        array_agg(distinct bidder_id) as entity_ids,
        array_agg(distinct expert_id) as expert_ids,
        least(1.0, max(-log(greatest(q_value, 1e-15))) / 10.0) as score,
        jsonb_agg(jsonb_build_object(
            'expert_id', expert_id, 'bidder_id', bidder_id, 'score', round(score::numeric, 2),
            'panel_others_mean', round(others_mean::numeric, 2), 'excess_points', round(excess::numeric, 2),
            'panel_spread', round(spread::numeric, 2), 'z', round(z::numeric, 2),
            'pair_lots', n_lots, 'pair_outlier_lots', k_lots,
            'p_value', p_value, 'q_value', q_value, 'pairs_tested', n_tested
        ) order by z desc) as items
    from favoured
    group by tender_id

),

-- affinity: lots an expert evaluated that one bidder won, against chance. Expert panels and
-- winners are both local, so chance is reckoned per population g = category x prefecture:
-- E = sum over g of wins of the bidder in g x panels of the expert in g / awarded lots in g,
-- and p = P(X >= observed) for X ~ Poisson(E); with many expert-winner pairs tested, a pair
-- counts when p x (pairs tested) < var ex_affinity_alpha (Bonferroni over every pair that met).
-- The pairs and their number are counted by expert in int_expert_winner_pairs_counted; only the
-- panels of the experts of a pair to test are read here.
lot_groups as (

    select
        tender_id,
        category,
        prefecture_code,
        winner_id,
        awarded_on
    from lots
    where winner_id is not null

),

-- the panels' lots of the experts of a pair to test (a few thousand of the 65,000 at scale 16),
-- read by int_expert_panels' expert index (an array: with nested loops off a join would hash
-- every panel); materialised: read for the expected counts and the signals
expert_lots as materialized (

    select
        panels.expert_id,
        panels.tender_id,
        lot_groups.category,
        lot_groups.prefecture_code,
        lot_groups.winner_id,
        lot_groups.awarded_on
    from panels
    inner join lot_groups on panels.tender_id = lot_groups.tender_id
    where
        panels.expert_id = any(array(
            select distinct affinity_counts.expert_id
            from affinity_counts
            where affinity_counts.winner_id is not null
        ))

),

group_sizes as (

    select
        category,
        prefecture_code,
        count(*) as n_lots
    from lot_groups
    group by category, prefecture_code

),

winner_wins as (

    select
        category,
        prefecture_code,
        winner_id,
        count(*) as n_wins
    from lot_groups
    group by category, prefecture_code, winner_id

),

expert_panels as (

    select
        category,
        prefecture_code,
        expert_id,
        count(*) as n_panels
    from expert_lots
    group by category, prefecture_code, expert_id

),

pair_counts as (

    select
        expert_id,
        winner_id,
        observed
    from affinity_counts
    where winner_id is not null

),

-- the populations where the expert sat on panels, for each pair that met often enough
-- (materialised, so that the expectation is summed from the few pairs out: misestimated, the
-- planner would first join every winner of a population to every expert of it)
pair_groups as materialized (

    select
        pair_counts.expert_id,
        pair_counts.winner_id,
        pair_counts.observed,
        expert_panels.category,
        expert_panels.prefecture_code,
        expert_panels.n_panels
    from pair_counts
    inner join expert_panels on pair_counts.expert_id = expert_panels.expert_id

),

pair_expected as (

    select
        pair_groups.expert_id,
        pair_groups.winner_id,
        pair_groups.observed,
        sum(
            winner_wins.n_wins::float8 * pair_groups.n_panels / group_sizes.n_lots
            order by pair_groups.category, pair_groups.prefecture_code
        ) as expected
    from pair_groups
    inner join winner_wins
        on pair_groups.winner_id = winner_wins.winner_id
        and pair_groups.category = winner_wins.category
        and pair_groups.prefecture_code = winner_wins.prefecture_code
    inner join group_sizes
        on winner_wins.category = group_sizes.category
        and winner_wins.prefecture_code = group_sizes.prefecture_code
    group by pair_groups.expert_id, pair_groups.winner_id, pair_groups.observed

),

ln_factorials as (

    select
        k,
        sum(ln(greatest(k, 1))) over (order by k) as ln_fact
    from generate_series(0, (select coalesce(max(observed), 0) + 40 from pair_expected)) as k

),

-- the number of tests made: every expert-winner pair that met at all (any of them could have
-- reached var ex_affinity_min_lots). Counting only the pairs that did reach it would select the
-- tests by their outcome and under-correct: at scale 1 that let chance pairs with 4 shared lots
-- (E ~ 0.1-0.3) through.
pairs_tested as materialized (

    select coalesce(sum(observed), 0)::bigint as n_tested
    from affinity_counts
    where winner_id is null

),

pair_tests as (

    select
        e.expert_id,
        e.winner_id,
        min(e.observed) as observed,
        min(e.expected) as expected,
        case
            when min(e.observed) > 2 * min(e.expected) + 5
                then sum(exp(-e.expected + f.k * ln(e.expected) - f.ln_fact) order by f.k) filter (where f.k >= e.observed)
            else greatest(0, 1 - coalesce(
                    sum(exp(-e.expected + f.k * ln(e.expected) - f.ln_fact) order by f.k) filter (where f.k < e.observed), 0
                ))
        end as p_value,
        (select pairs_tested.n_tested from pairs_tested) as n_tested
    from pair_expected as e
    inner join ln_factorials as f on f.k <= e.observed + 40
    where e.observed > e.expected
    group by e.expert_id, e.winner_id

),

affinity_signals as (

    select
        expert_lots.tender_id,
        min(expert_lots.awarded_on) as signal_date,
        array_agg(distinct expert_lots.winner_id) as entity_ids,
        array_agg(distinct expert_lots.expert_id) as expert_ids,
        least(1.0, max(-log(greatest(pair_tests.p_value, 1e-15))) / 10.0) as score,
        jsonb_agg(jsonb_build_object(
            'expert_id', expert_lots.expert_id, 'winner_id', expert_lots.winner_id,
            'observed', pair_tests.observed, 'expected', round(pair_tests.expected::numeric, 4),
            'p_value', pair_tests.p_value, 'pairs_tested', pair_tests.n_tested
        ) order by expert_lots.expert_id, expert_lots.winner_id) as items
    from expert_lots
    inner join pair_tests
        on expert_lots.expert_id = pair_tests.expert_id
        and expert_lots.winner_id = pair_tests.winner_id
    -- Bonferroni: many expert-winner pairs are tested; p x pairs tested below var ex_affinity_alpha
    where pair_tests.p_value * pair_tests.n_tested < {{ var('ex_affinity_alpha', 0.05) }}
    group by expert_lots.tender_id

),

final as (

    {{ signals_union([
        {'rule_id': "'ex_employed_by_bidder'", 'from': 'employed', 'expert_ids': 'expert_ids',
            'evidence': "jsonb_build_object('experts', items)"},
        {'rule_id': "'ex_favouritism'", 'from': 'favour_signals', 'expert_ids': 'expert_ids', 'score': 'score',
            'evidence': "jsonb_build_object('favoured', items)"},
        {'rule_id': "'ex_winner_affinity'", 'from': 'affinity_signals', 'expert_ids': 'expert_ids', 'score': 'score',
            'evidence': "jsonb_build_object('pairs', items)"},
    ]) }}

)

select * from final
