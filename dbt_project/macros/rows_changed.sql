{#- Incremental by what changed, the row being its own fingerprint (issue #18): for a per-key
    table whose rows read too many feeds and models to fingerprint their inputs (the closed-loop
    trace, the departments' assignment), a night computes the rows of the keys that may have
    changed (`candidates`, macros/change_log.sql; none: every key) and keeps only those that
    differ from the kept ones, plus a tombstone (the key alone) for each kept key among them gone
    from `keys`, for the strategy replace_changed_keys (macros/changed_keys.sql) to replace and
    remove.

    Use, as the last CTE of a model whose result is the CTE `rows` (one row per key), `keys`
    being the relation that lists every key today (a staging table: read apart from `rows`, which
    a second reader would materialize whole) and `candidates` the SQL of a select of one column
    (the keys `rows` was cut to) or none:
        final as ({{ rows_changed('rows', ref('stg_trading_centre__tenders'), 'tender_id', candidates) }})
    The fingerprint is the row's 64-bit hash by value (md5 or hashtextextended of its text cost
    7-9 s at scale 16, this 2 s; a number written with another scale alone, 1.0 for 1.00, is the
    same value) and the model's code; `context` (SQL of one md5: what every row shares, a seed),
    when given, prefixes it as 'context/...', as input_fingerprints does (macros/changed_keys.sql):
    a model that computes its candidates alone compares it once (changed_context, below) and
    computes every key when it changed. `rows` is read once: with a second reader it was written
    to disk whole (156 MB at scale 16) before the few changed rows were joined back. The kept
    rows and the keys are read for the candidates alone, by index. `keys` is not aliased: `dbt
    run --empty` renders a ref as an aliased subquery. -#}
{% macro rows_changed(rows, keys, key, candidates=none, context=none) -%}
    select *  -- noqa: AM04
    from (
        select
            {{ rows }}.*,
            {% if context is not none %}({{ context }}) || '/' || {% endif -%}
            md5(hash_record_extended({{ rows }}, 0)::text || '/{{ model_code_checksum() }}') as input_fingerprint
        from {{ rows }}
    ) as fingerprinted
    {%- if is_incremental() %}
    where not exists (
            select 1
            from {{ this }} as kept
            where
                kept.{{ key }} = fingerprinted.{{ key }} and kept.input_fingerprint = fingerprinted.input_fingerprint
                {%- if candidates is not none %}
                and kept.{{ key }} = any({{ candidates_array(candidates) }})
                {%- endif %}
        )

    union all

    -- a kept key gone: its tombstone, its kept row without a fingerprint (not inserted again)
    select tombstone.*  -- noqa: AM04
    from {{ this }} as kept
    cross join lateral jsonb_populate_record(kept, jsonb_build_object('input_fingerprint', null)) as tombstone
    where
        {%- if candidates is not none %}
        kept.{{ key }} = any({{ candidates_array(candidates) }}) and
        {%- endif %}
        not exists (
            select 1
            from {{ keys }}
            where
                {{ key }} = kept.{{ key }}
                {%- if candidates is not none %}
                and {{ key }} = any({{ candidates_array(candidates) }})
                {%- endif %}
        )
    {%- endif %}
{%- endmacro %}

{#- Whether the kept rows' fingerprints carry another context (`context_sql`, SQL of one md5) than
    the one it gives now, or none (an empty table): their rows are then all to compute again. -#}
{% macro changed_context(context_sql) -%}
    {%- set same_context = run_query(
        "select (" ~ context_sql ~ ") = (select split_part(kept.input_fingerprint, '/', 1) from "
        ~ this ~ " as kept limit 1)"
    ) -%}
    {{- return(not same_context.rows[0][0]) -}}
{%- endmacro %}
