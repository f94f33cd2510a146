-- grain: one row per tender (lot) x expert who evaluated it (the lot's panel), with the local
-- day of his first score. The expert rules (int_signals_experts) read panels: an expert
-- employed by a bidder of the lot, and the lots an expert evaluated that one bidder won.
-- A lot's panel depends only on its own evaluation rows and var timezone, so the table is
-- incremental by what changed (macros/changed_keys.sql); a night fingerprints only the lots
-- whose evaluation rows were stamped since this model's last build, every lot after a
-- re-delivered day (macro changed_keys_since_last_staged, macros/change_log.sql). At scale 16 the panels of every
-- evaluation of the history (14 M rows) were grouped again each night, 8 s of the expert
-- rules' 43. Indexed by lot, and by expert with his lots: the experts' winner counts
-- (int_expert_winner_pairs_counted) and the affinity rule read a few experts' panels, the counts
-- from the index alone. It replaces the narrower index int_expert_panels_expert_idx, dropped
-- where it is left. The lot index is unique on lot and expert (nulls not distinct): it refuses a
-- duplicate panel row as it is written, in place of a data test that read the panels (it
-- replaces int_expert_panels_tender_idx, on the lot alone).
{%- set salt = "'" ~ var('timezone') ~ "'" %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='tender_id',
    on_schema_change='fail',
    fingerprint_salt=salt,
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'tender_expert', 'tender_id, expert_id', unique=true, nulls_not_distinct=true) }}",
        "{{ lasting_index(this, 'expert_lots', 'expert_id, tender_id') }}",
        "drop index if exists {{ this.schema }}.{{ this.identifier }}_expert_idx",
        "drop index if exists {{ this.schema }}.{{ this.identifier }}_tender_idx",
    ],
) }}

{%- set candidates = changed_keys_since_last_staged([(ref('stg_trading_centre__evaluations'), 'tender_id')]) %}

-- (not materialised: read for the fingerprints, and by the changed lots' keys below)
with evaluations as not materialized (

    select
        tender_id,
        expert_id,
        evaluated_at
    from {{ ref('stg_trading_centre__evaluations') }}
    {{ where_candidates(candidates) }}

),

fingerprints as (

    {{ input_fingerprints('evaluations', 'tender_id', ['expert_id', 'evaluated_at'], salt=salt) }}

),

changed as (

    {{ changed_keys('fingerprints', 'tender_id', candidates) }}

),

panels as (

    select
        tender_id,
        expert_id,
        min({{ local_date('evaluated_at') }}) as evaluated_on
    from evaluations
    {%- if is_incremental() %}
    where tender_id = any(array(select changed.tender_id from changed))
    {%- endif %}
    group by tender_id, expert_id

),

-- every changed lot: its panel (a tombstone's row is dropped)
final as (

    select
        changed.tender_id,
        changed.input_fingerprint,
        panels.expert_id,
        panels.evaluated_on
    from changed
    left join panels on changed.tender_id = panels.tender_id

)

select * from final
