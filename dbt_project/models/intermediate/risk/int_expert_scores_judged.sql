-- grain: one row per expert score judged (tender (lot) x expert x bidder) of a lot with evaluation
-- rows, and one placeholder row (expert_id, bidder_id null) for a lot none of whose scores can be
-- judged (no score, or no bidder scored by 3 experts): its fingerprint must be kept somewhere, or
-- the lot would be recomputed every night. Readers take `where expert_id is not null`.
-- The per-lot part of the favouritism rule (int_signals_experts, steps 1-2 of its header): each
-- score against the rest of the panel, net of the expert's leniency, as a robust z against the
-- lot's spread. It depends only on the lot's own evaluation rows and vars ex_favour_min_spread and
-- ex_favour_z, so it is incremental by what changed (macros/changed_keys.sql): a night recomputes
-- only the lots whose evaluation rows changed; the persistence test over every expert-bidder
-- pair, which every new lot moves, stays in int_signals_experts. A night fingerprints only the
-- lots whose evaluation rows were stamped since this model's last build; every lot after a
-- re-delivered day (macro changed_keys_since_last_staged, macros/change_log.sql). Indexed by lot
-- (a night compares its lots' kept fingerprints) and by expert x bidder (the experts' counts,
-- int_expert_bidder_pairs_counted, and the favoured pairs' scores are read by them), the index
-- carrying lot and outlier flag: the counts read a night's experts' scores from the index alone
-- (at scale 16, 1.2 M scores of 5,476 experts: 0.6 s instead of 3-4 s scattered over the table).
-- It replaces the narrower index int_expert_scores_judged_pair_idx, dropped where it is left.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='tender_id',
    on_schema_change='fail',
    pre_hook=["set local enable_nestloop = off", "set local work_mem = '256MB'"],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'tender', 'tender_id') }}",
        "{{ lasting_index(this, 'pair_lots', 'expert_id, bidder_id, tender_id, is_outlier') }}",
        "drop index if exists {{ this.schema }}.{{ this.identifier }}_pair_idx",
    ],
) }}

{%- set candidates = changed_keys_since_last_staged([(ref('stg_trading_centre__evaluations'), 'tender_id')]) %}

with evaluations as (

    select * from {{ ref('stg_trading_centre__evaluations') }}
    {{ where_candidates(candidates) }}

),

-- (not materialised: the fingerprints scan staging in parallel, and a night reads the changed
-- lots' rows by index instead of a copy of every score of the history)
lot_scores as not materialized (

    select
        tender_id,
        expert_id,
        bidder_id,
        evaluated_at,
        coalesce(tech_score, total_score) as score
    from evaluations

),

-- a lot's judgement depends on its scores (a score is unique per lot x expert x bidder in
-- staging) and on the vars that bound the spread and the outliers
fingerprints as (

    {{ input_fingerprints(
        'lot_scores', 'tender_id', ['expert_id', 'bidder_id', 'evaluated_at', 'score'],
        salt="'" ~ var('ex_favour_min_spread', 1.0) ~ "/" ~ var('ex_favour_z', 3.5) ~ "'"
    ) }}

),

changed as (

    {{ changed_keys('fingerprints', 'tender_id', candidates) }}

),
{%- if is_incremental() %}

-- the changed lots' scores (on a full refresh every lot has changed: all scores). An array, not
-- a join: nested loops are off, and a join would hash every score of the history to keep a
-- night's few lots; `= any` reads them by index.
changed_scores as (

    select lot_scores.*
    from lot_scores
    where lot_scores.tender_id = any(array(select changed.tender_id from changed))

),
{%- endif %}

-- 1. Each score against the rest of the panel for that bidder (leave-one-out mean), net of the
--    expert's own leniency in the lot (the median of those differences over the bidders he
--    scored): the excess points. Scores: technical (the subjective part), else total. The
--    panel's sum is exact (numeric): a float sum depends on the order the rows come in, which
--    differs between a night's few lots and a full refresh (the last bits of z would differ).
scored as (

    select
        tender_id,
        expert_id,
        bidder_id,
        {{ local_date('evaluated_at') }} as evaluated_on,
        score::float8 as score,
        sum(score) over (partition by tender_id, bidder_id)::float8 as panel_sum,
        count(score) over (partition by tender_id, bidder_id) as panel_n
    from {% if is_incremental() %}changed_scores{% else %}lot_scores{% endif %}
    where score is not null

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

    select
        tender_id,
        expert_id,
        percentile_cont(0.5) within group (order by deviation) as leniency
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

-- 2. The excess as a robust z-score against that panel's spread on that lot: the MAD of all
--    excesses of the lot (x 1.4826, a standard deviation under normal noise), never below var
--    ex_favour_min_spread points. Panels that simply disagree have a wide spread, and a
--    10-point deviation there is ordinary.
lot_centres as (

    select
        tender_id,
        percentile_cont(0.5) within group (order by excess) as centre
    from excess
    group by tender_id

),

lot_spreads as (

    select
        excess.tender_id,
        lot_centres.centre,
        greatest(
            1.4826 * percentile_cont(0.5) within group (order by abs(excess.excess - lot_centres.centre)),
            {{ var('ex_favour_min_spread', 1.0) }}
        ) as spread
    from excess
    inner join lot_centres on excess.tender_id = lot_centres.tender_id
    group by excess.tender_id, lot_centres.centre

),

robust_z as (

    select
        excess.tender_id,
        excess.expert_id,
        excess.bidder_id,
        excess.evaluated_on,
        excess.score,
        excess.others_mean,
        excess.excess,
        lot_spreads.spread,
        (excess.excess - lot_spreads.centre) / lot_spreads.spread as z,
        (excess.excess - lot_spreads.centre) / lot_spreads.spread >= {{ var('ex_favour_z', 3.5) }} as is_outlier
    from excess
    inner join lot_spreads on excess.tender_id = lot_spreads.tender_id

),

-- every changed lot: its judged scores, or one placeholder row (a tombstone's is dropped)
final as (

    select
        changed.tender_id,
        changed.input_fingerprint,
        robust_z.expert_id,
        robust_z.bidder_id,
        robust_z.evaluated_on,
        robust_z.score,
        robust_z.others_mean,
        robust_z.excess,
        robust_z.spread,
        robust_z.z,
        robust_z.is_outlier
    from changed
    left join robust_z on changed.tender_id = robust_z.tender_id

)

select * from final
