{#- Incremental by what changed, the row being its own fingerprint (issue #18): for a per-key
    table whose rows read too many feeds and models to track what changed (the closed-loop trace,
    the departments' assignment), a night computes every row and keeps only those that differ
    from the kept ones, plus a tombstone (the key alone) for each kept key gone, for the strategy
    replace_changed_keys (macros/changed_keys.sql) to replace and remove. Nothing to track (feeds,
    parents rebuilt whole, re-deliveries that leave no trace in staging): the write follows the
    night.

    Use, as the last CTE of a model whose result is the CTE `rows` (one row per key) and whose
    keys today are the CTE `keys` (defined on an incremental run only; read apart from `rows`,
    which a second reader would materialize whole):
        final as ({{ rows_changed('rows', 'keys', 'tender_id') }})
    The fingerprint is the row's 64-bit hash by value (md5 or hashtextextended of its text cost
    7-9 s at scale 16, this 2 s; a number written with another scale alone, 1.0 for 1.00, is the
    same value) and the model's code. `rows` is read once: with a second reader it was written
    to disk whole (156 MB at scale 16) before the few changed rows were joined back. -#}
{% macro rows_changed(rows, keys, key) -%}
    select *  -- noqa: AM04
    from (
        select
            {{ rows }}.*,
            md5(hash_record_extended({{ rows }}, 0)::text || '/{{ model_code_checksum() }}') as input_fingerprint
        from {{ rows }}
    ) as fingerprinted
    {%- if is_incremental() %}
    where not exists (
            select 1
            from {{ this }} as kept
            where kept.{{ key }} = fingerprinted.{{ key }} and kept.input_fingerprint = fingerprinted.input_fingerprint
        )

    union all

    -- a kept key gone: its tombstone, its kept row without a fingerprint (not inserted again)
    select tombstone.*  -- noqa: AM04
    from {{ this }} as kept
    cross join lateral jsonb_populate_record(kept, jsonb_build_object('input_fingerprint', null)) as tombstone
    where not exists (
            select 1
            from {{ keys }}
            where {{ keys }}.{{ key }} = kept.{{ key }}
        )
    {%- endif %}
{%- endmacro %}
