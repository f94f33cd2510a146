{#- The experts' counts (issue #18): a table keyed by expert, one row per pair of his that met
    often enough and one row of his totals (the pair column null), incremental by what changed
    (macros/changed_keys.sql). int_expert_bidder_pairs_counted (his scores' bidders, the
    favouritism rule) and int_expert_winner_pairs_counted (his panels' winners, the affinity
    rule) are written with these two macros.

    Use, in such a model:
        {%- set candidates = experts_of_changed_lots(parents=['int_expert_panels']) %}
        with ... his rows cut by where_candidates(candidates, 'expert_id') ...,
        counted as materialized (... expert_id, <pair column>, <counts> ...),
        {{ expert_counts_changed('counted', 'winner_id', ['observed'], candidates, salt) }}
        select * from final -#}

{#- On a night, the experts who may have changed, as SQL of a select of one column: those on a
    panel of a lot whose evaluation rows were stamped since the model's last build or that
    `parents` (per-lot models) recomputed since, found in staging's rows of those lots (so an
    expert whose scores a lot no longer judges is seen too); none (every expert) on a first
    build, after a re-delivered day or a parent rebuilt whole (changed_keys_since_last_staged,
    macros/change_log.sql). Distinct: an expert has a row per bidder he scored (at scale 16,
    99,000 rows of 11,000 experts, an array sorted and searched three times). -#}
{% macro experts_of_changed_lots(parents) -%}
    {%- set lots = changed_keys_since_last_staged(
        [(ref('stg_trading_centre__evaluations'), 'tender_id')], parents=parents
    ) -%}
    {%- if lots is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set candidates -%}
select distinct expert_id
from {{ ref('stg_trading_centre__evaluations') }}
where tender_id = any(array({{ lots }}))
    {%- endset -%}
    {{- return(candidates) -}}
{%- endmacro %}

{#- The CTEs fingerprints, changed and final of such a model, from its CTE `counted` (one row
    per expert x `pair_column` value, the null one his totals, with `count_columns`): an
    expert's fingerprint is that of his counts, all his rows depend on (fingerprinting the counts
    spares a second pass over what they count: at scale 16 a night's 5,476 experts have 1.2 M
    scores, and the two passes, hashing every score's row text, took 10 s); final holds every
    changed expert's rows (a tombstone's row is dropped by the strategy). -#}
{% macro expert_counts_changed(counted, pair_column, count_columns, candidates, salt) -%}
fingerprints as (

    {{ input_fingerprints(counted, 'expert_id', [pair_column] + count_columns, salt=salt) }}

),

changed as (

    {{ changed_keys('fingerprints', 'expert_id', candidates) }}

),

final as (

    select
        changed.expert_id,
        changed.input_fingerprint,
        {{ counted }}.{{ pair_column }},
        {%- for column in count_columns %}
        {{ counted }}.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from changed
    left join {{ counted }} on changed.expert_id = {{ counted }}.expert_id

)
{%- endmacro %}
