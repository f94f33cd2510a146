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
-- seen too); every expert after a re-delivered day, or when the judged table was rebuilt whole.
-- The candidates and the fingerprinted tail are those of every expert-count model
-- (macros/expert_counts.sql, shared with int_expert_winner_pairs_counted).
-- The expert index is unique on expert and bidder (nulls not distinct: one totals row per
-- expert): it refuses a duplicate as it is written, in place of a data test that read the pairs
-- (it replaces int_expert_bidder_pairs_counted_expert_idx, on the expert alone).
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
        "{{ lasting_index(this, 'expert_bidder', 'expert_id, bidder_id', unique=true, nulls_not_distinct=true) }}",
        "drop index if exists {{ this.schema }}.{{ this.identifier }}_expert_idx",
    ],
) }}

{%- set candidates = experts_of_changed_lots(parents=['int_expert_scores_judged']) %}

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

{{ expert_counts_changed('counted', 'bidder_id', ['n_lots', 'k_lots'], candidates, salt) }}

select * from final
