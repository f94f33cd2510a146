-- grain: one row per rule x tender (lot), for the evaluation-expert rules (ex_*)
-- (nested loops off: the planner underestimates the self-joins of bids within a lot and would
-- take minutes on a province-year of bids)
{{ config(
    pre_hook=["set local enable_nestloop = off"],
) }}

with evaluations as (

    select * from {{ ref('stg_trading_centre__evaluations') }}

),

experts as (

    select * from {{ ref('stg_trading_centre__experts') }}

),

bids as (

    select * from {{ ref('int_bids_joined_to_lots') }}

),

lots as (

    select * from {{ ref('int_lots_summarised') }}

),

panels as (

    select tender_id, expert_id, min({{ local_date('evaluated_at') }}) as evaluated_on
    from evaluations
    group by tender_id, expert_id

),

-- 回避: an expert whose employer bid for the lot
employed as (

    select
        panels.tender_id,
        min(panels.evaluated_on) as signal_date,
        array_agg(distinct experts.employer_id) as entity_ids,
        array_agg(distinct panels.expert_id) as expert_ids,
        jsonb_agg(distinct jsonb_build_object('expert_id', panels.expert_id, 'employer_id', experts.employer_id)) as items
    from panels
    inner join experts on panels.expert_id = experts.expert_id
    inner join bids
        on panels.tender_id = bids.tender_id
        and experts.employer_id = bids.bidder_id
    group by panels.tender_id

),

-- favouritism: an expert's score for a bidder against the rest of the panel's for that
-- bidder (leave-one-out mean), net of the expert's own leniency in the lot (the median of
-- those differences over the bidders he scored). Scores: technical (the subjective part),
-- else total.
scored as (

    select
        tender_id,
        expert_id,
        bidder_id,
        {{ local_date('evaluated_at') }} as evaluated_on,
        coalesce(tech_score, total_score)::float8 as score,
        sum(coalesce(tech_score, total_score)::float8) over (partition by tender_id, bidder_id) as panel_sum,
        count(coalesce(tech_score, total_score)) over (partition by tender_id, bidder_id) as panel_n
    from evaluations
    where coalesce(tech_score, total_score) is not null

),

deviations as (

    select
        tender_id,
        expert_id,
        bidder_id,
        evaluated_on,
        score,
        (panel_sum - score) / (panel_n - 1) as others_mean,
        score - (panel_sum - score) / (panel_n - 1) as deviation
    from scored
    where panel_n >= 3

),

leniency as (

    select tender_id, expert_id, percentile_cont(0.5) within group (order by deviation) as leniency
    from deviations
    group by tender_id, expert_id

),

excess as (

    select
        deviations.*,
        deviations.deviation - leniency.leniency as excess
    from deviations
    inner join leniency
        on deviations.tender_id = leniency.tender_id
        and deviations.expert_id = leniency.expert_id

),

favoured as (

    select
        excess.*,
        count(*) over (partition by expert_id, bidder_id) as pair_lots
    from excess
    where excess >= {{ var('ex_favour_points', 10) }}

),

favour_signals as (

    select
        tender_id,
        min(evaluated_on) as signal_date,
        array_agg(distinct bidder_id) as entity_ids,
        array_agg(distinct expert_id) as expert_ids,
        -- stronger when larger, and when the same expert favours the same bidder elsewhere
        least(1.0, max(excess) / 20.0 * case when max(pair_lots) >= 2 then 1.0 else 0.75 end) as score,
        jsonb_agg(jsonb_build_object(
            'expert_id', expert_id, 'bidder_id', bidder_id, 'score', round(score::numeric, 2),
            'panel_others_mean', round(others_mean::numeric, 2), 'excess_points', round(excess::numeric, 2),
            'lots_favoured_by_pair', pair_lots
        ) order by excess desc) as items
    from favoured
    group by tender_id

),

-- affinity: lots an expert evaluated that a bidder won, against chance: within each trading
-- category (expert pools are drawn per category: 工程 vs 采购 specialties; finer groups are too
-- thin to estimate), E = wins of the bidder x panels of the expert / awarded lots
lot_groups as (

    select tender_id, category, winner_id, awarded_on
    from lots
    where winner_id is not null

),

expert_lots as (

    select panels.expert_id, panels.tender_id, lot_groups.category, lot_groups.winner_id, lot_groups.awarded_on
    from panels
    inner join lot_groups on panels.tender_id = lot_groups.tender_id

),

group_sizes as (

    select category, count(*) as n_lots from lot_groups group by category

),

winner_wins as (

    select category, winner_id, count(*) as n_wins from lot_groups group by category, winner_id

),

expert_panels as (

    select category, expert_id, count(*) as n_panels from expert_lots group by category, expert_id

),

-- per category: lots the expert evaluated that the bidder won, against the hypergeometric
-- law of independent draws (N awarded lots, K won by the bidder, n evaluated by the expert)
pair_counts as (

    select
        expert_lots.category,
        expert_lots.expert_id,
        expert_lots.winner_id,
        count(*) as observed,
        min(group_sizes.n_lots) as n_lots,
        min(winner_wins.n_wins) as n_wins,
        min(expert_panels.n_panels) as n_panels
    from expert_lots
    inner join group_sizes on expert_lots.category = group_sizes.category
    inner join winner_wins
        on expert_lots.category = winner_wins.category
        and expert_lots.winner_id = winner_wins.winner_id
    inner join expert_panels
        on expert_lots.category = expert_panels.category
        and expert_lots.expert_id = expert_panels.expert_id
    group by expert_lots.category, expert_lots.expert_id, expert_lots.winner_id
    having count(*) >= {{ var('ex_affinity_min_lots', 4) }}

),

ln_factorials as (

    select
        k,
        sum(ln(greatest(k, 1))) over (order by k) as ln_fact
    from generate_series(0, (select coalesce(max(n_lots), 0) from group_sizes)) as k

),

pair_terms as (

    select
        c.category,
        c.expert_id,
        c.winner_id,
        c.observed,
        c.n_wins::float8 * c.n_panels / c.n_lots as expected,
        exp(
            fk.ln_fact + fnk.ln_fact + fn.ln_fact + fnn.ln_fact - fall.ln_fact
            - f1.ln_fact - f2.ln_fact - f3.ln_fact - f4.ln_fact
        ) as term
    from pair_counts as c
    inner join ln_factorials as fk on c.n_wins = fk.k
    inner join ln_factorials as fnk on c.n_lots - c.n_wins = fnk.k
    inner join ln_factorials as fn on c.n_panels = fn.k
    inner join ln_factorials as fnn on c.n_lots - c.n_panels = fnn.k
    inner join ln_factorials as fall on c.n_lots = fall.k
    cross join lateral generate_series(c.observed, least(c.n_wins, c.n_panels, c.observed + 60)) as t (k)
    inner join ln_factorials as f1 on t.k = f1.k
    inner join ln_factorials as f2 on c.n_wins - t.k = f2.k
    inner join ln_factorials as f3 on c.n_panels - t.k = f3.k
    inner join ln_factorials as f4 on c.n_lots - c.n_wins - c.n_panels + t.k = f4.k

),

pair_tests as (

    select
        category,
        expert_id,
        winner_id,
        min(observed) as observed,
        min(expected) as expected,
        least(1, sum(term)) as p_value
    from pair_terms
    where observed > expected
    group by category, expert_id, winner_id

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
            'p_value', pair_tests.p_value
        )) as items
    from expert_lots
    inner join pair_tests
        on expert_lots.category = pair_tests.category
        and expert_lots.expert_id = pair_tests.expert_id
        and expert_lots.winner_id = pair_tests.winner_id
    where pair_tests.p_value < {{ var('ex_affinity_max_p', 0.001) }}
    group by expert_lots.tender_id

),

final as (

    {% set parts = [
        ('ex_employed_by_bidder', 'employed', '1.0', "jsonb_build_object('experts', items)"),
        ('ex_favouritism', 'favour_signals', 'score', "jsonb_build_object('favoured', items)"),
        ('ex_winner_affinity', 'affinity_signals', 'score', "jsonb_build_object('pairs', items)"),
    ] %}
    {%- for rule_id, cte, score, evidence in parts %}
    select
        '{{ rule_id }}' as rule_id,
        'tender' as subject_type,
        tender_id as subject_id,
        tender_id,
        entity_ids::text [] as entity_ids,
        expert_ids::text [] as expert_ids,
        signal_date::date as signal_date,
        ({{ score }})::numeric as score,
        {{ evidence }} as evidence
    from {{ cte }}
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}

)

select * from final
