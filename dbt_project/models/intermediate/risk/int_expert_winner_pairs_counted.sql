-- grain: one row per expert x winner of at least var ex_affinity_min_lots lots on whose panel the
-- expert sat (observed: those lots), and one row per expert with winner_id null, his totals: the
-- number of winners he met at all (observed: the expert-winner pairs of his that met, each a test
-- the affinity rule makes). The affinity rule (int_signals_experts) reads these: the pairs tested
-- are the sum of the totals, the pairs to test the pair rows. At scale 16 it paired every panel
-- with its lot's winner again each night (1.7 M panels, 1.5 M pairs: about 4 s of its 12 s).
-- Keyed by expert, incremental by what changed (macros/changed_keys.sql): an expert's rows
-- depend only on his panels' lots and their winners. A night fingerprints only the experts on a
-- panel of a lot int_expert_panels or int_lots_summarised (a winner, an award) recomputed, or
-- whose evaluation rows were stamped since this model's last build (staging's rows of those
-- lots, so an expert no longer on a lot's panel is seen too); every expert after a re-delivered
-- day, or when a parent was rebuilt whole. The candidates and the fingerprinted tail are those
-- of every expert-count model (macros/expert_counts.sql, shared with
-- int_expert_bidder_pairs_counted).
-- The expert index is unique on expert and winner (nulls not distinct: one totals row per
-- expert): it refuses a duplicate as it is written, in place of a data test that read the pairs
-- (it replaces int_expert_winner_pairs_counted_expert_idx, on the expert alone).
{%- set salt = "'" ~ var('ex_affinity_min_lots', 4) ~ "'" %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='expert_id',
    on_schema_change='fail',
    fingerprint_salt=salt,
    pre_hook=["set local enable_nestloop = off", "set local work_mem = '256MB'"],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'expert_winner', 'expert_id, winner_id', unique=true, nulls_not_distinct=true) }}",
        "drop index if exists {{ this.schema }}.{{ this.identifier }}_expert_idx",
    ],
) }}

{%- set candidates = experts_of_changed_lots(parents=['int_expert_panels', 'int_lots_summarised']) %}

-- the candidate experts' panels (a night: read from int_expert_panels' index on expert and lot
-- alone)
with panels as (

    select
        expert_id,
        tender_id
    from {{ ref('int_expert_panels') }}
    {{ where_candidates(candidates, 'expert_id') }}

),

awarded as (

    select
        tender_id,
        winner_id
    from {{ ref('int_lots_summarised') }}
    where winner_id is not null

),

-- every expert-winner pair that met (a lot has one panel row per expert: rows count lots)
expert_winners as (

    select
        panels.expert_id,
        awarded.winner_id,
        count(*) as observed
    from panels
    inner join awarded on panels.tender_id = awarded.tender_id
    group by panels.expert_id, awarded.winner_id

),

-- the pairs that met often enough to be tested, and each expert's number of pairs (winner_id
-- null). Materialised: fingerprinted and read again.
counted as materialized (

    select
        expert_id,
        winner_id,
        observed
    from expert_winners
    where observed >= {{ var('ex_affinity_min_lots', 4) }}
    union all
    select
        expert_id,
        null as winner_id,
        count(*) as observed
    from expert_winners
    group by expert_id

),

{{ expert_counts_changed('counted', 'winner_id', ['observed'], candidates, salt) }}

select * from final
