-- grain: one row per expert x bidder he scored in at least var ex_favour_min_lots judged lots
-- (int_expert_scores_judged): in how many lots (n_lots) and in how many of them the score was a
-- high outlier (k_lots); and one row per expert with bidder_id null, his totals: every judged
-- score of his (n_lots) and its high outliers (k_lots). The favouritism rule's persistence test
-- (int_signals_experts, step 3) reads these: the null rate p0 is the totals' outliers over
-- their scores, the pairs tested are the pair rows. At scale 16 they were counted again over
-- every score of the history each night (14 M scores, 9.4 M pairs of which 2.2 M met twice:
-- about 25 s of the expert rules' 43).
-- Keyed by expert, incremental by what changed (macros/changed_keys.sql): an expert's rows
-- depend only on his judged scores. A night fingerprints only the experts on a panel of a lot
-- int_expert_scores_judged recomputed or whose evaluation rows were stamped since this model's
-- last build (staging's rows of those lots, so an expert whose scores a lot no longer judges is
-- seen too); every expert after a re-delivered day, or when the judged table was rebuilt whole
-- (macro changed_keys_since_last_staged, macros/change_log.sql).
{%- set salt = "'" ~ var('ex_favour_min_lots', 2) ~ "'" %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='expert_id',
    on_schema_change='fail',
    fingerprint_salt=salt,
    pre_hook=["set local work_mem = '256MB'"],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'expert', 'expert_id') }}",
    ],
) }}

{%- set lots = changed_keys_since_last_staged(
    [(ref('stg_trading_centre__evaluations'), 'tender_id')],
    parents=['int_expert_scores_judged'],
) %}
{%- set candidates = none %}
{%- if lots is not none %}
{%- set candidates -%}
select expert_id
from {{ ref('stg_trading_centre__evaluations') }}
where tender_id = any(array({{ lots }}))
{%- endset %}
{%- endif %}

with judged as (

    select
        expert_id,
        tender_id,
        bidder_id,
        is_outlier
    from {{ ref('int_expert_scores_judged') }}
    {{ where_candidates(candidates, 'expert_id') }}

),

-- not the placeholder rows of lots without a judged score
scores as (

    select *
    from judged
    where expert_id is not null

),

-- the pairs that met often enough to be tested, and each expert's totals (bidder_id null), in
-- one pass over his scores (a score is unique per lot x expert x bidder: rows count lots).
-- Counted for every candidate expert, then fingerprinted (materialised: read twice).
counted as materialized (

    select
        expert_id,
        bidder_id,
        count(*) as n_lots,
        count(*) filter (where is_outlier) as k_lots
    from scores
    group by grouping sets ((expert_id, bidder_id), (expert_id))
    having grouping(bidder_id) = 1 or count(*) >= {{ var('ex_favour_min_lots', 2) }}

),

-- An expert's fingerprint is that of his counts, not of his scores: they are all his rows
-- depend on (whichever lots and bidders they came from), and fingerprinting the counts spares a
-- second pass over his scores (at scale 16 a night's 5,476 experts have 1.2 M scores: the two
-- passes, hashing every score's row text, took 10 s)
fingerprints as (

    {{ input_fingerprints('counted', 'expert_id', ['bidder_id', 'n_lots', 'k_lots'], salt=salt) }}

),

changed as (

    {{ changed_keys('fingerprints', 'expert_id', candidates) }}

),

-- every changed expert: his totals and pairs (a tombstone's row is dropped)
final as (

    select
        changed.expert_id,
        changed.input_fingerprint,
        counted.bidder_id,
        counted.n_lots,
        counted.k_lots
    from changed
    left join counted on changed.expert_id = counted.expert_id

)

select * from final
