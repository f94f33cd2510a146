{#- Incremental staging: "the newest delivered version per key", kept up to date night by night.

    A staging model (tools/gen_staging.py) on an incremental run selects, for every key the
    batches loaded since its last run touch, the winner over ALL delivered versions of that key
    (so a re-delivered or back-filled day picks the same winner a full refresh would), and a
    row of nulls but the key (a "tombstone", batch_date null) for a touched key left with no
    version at all (its only day was re-delivered without it). The strategy below replaces the
    table's rows of those keys: delete them, insert the winners, not the tombstones.

    Use: config(materialized='incremental', incremental_strategy='newest_version',
                unique_key=[...], nullable_key_columns=[...]). -#}

{#- `left.k = right.k and ...`; a key column that may be empty (the contract does not require
    it) matches null to null, as `distinct on` groups it. -#}
{% macro newest_version_key_match(left, right, key, nullable=[]) -%}
    {%- for k in key -%}
        {{ left }}.{{ k }} {{ 'is not distinct from' if k in nullable else '=' }} {{ right }}.{{ k }}
        {%- if not loop.last %} and {% endif -%}
    {%- endfor -%}
{%- endmacro %}

{% macro get_incremental_newest_version_sql(arg_dict) -%}
    {%- set key = arg_dict["unique_key"] -%}
    {%- set key = [key] if key is string else key -%}
    {%- set columns = get_quoted_csv(arg_dict["dest_columns"] | map(attribute="name")) -%}
    delete from {{ arg_dict["target_relation"] }} as t
    using {{ arg_dict["temp_relation"] }} as s
    where {{ newest_version_key_match('t', 's', key, config.get('nullable_key_columns', [])) }};

    insert into {{ arg_dict["target_relation"] }} ({{ columns }})
    select {{ columns }}
    from {{ arg_dict["temp_relation"] }}
    where batch_date is not null
{%- endmacro %}

{#- The batch days an incremental staging run must look at, as two CTEs (watermark,
    delivered) over the model's `source` CTE and {{ this }}: days loaded since this table's
    newest row, less var staging_lookback (a load's rows carry its start time, so of two
    loads open during a run the older may commit after it), and days a re-delivery emptied
    (no row of the day is left to be newer). One definition for every generated stg_ model. -#}
{% macro staging_delivered_days() -%}
watermark as (

    select coalesce(max(kept.loaded_at), '-infinity') - interval '{{ var("staging_lookback", "0 seconds") }}' as loaded_after
    from {{ this }} as kept

),

delivered as (

    select distinct source._batch_date as batch_date
    from source
    inner join watermark on source._loaded_at > watermark.loaded_after
    union
    select kept_days.batch_date
    from (select distinct kept.batch_date from {{ this }} as kept) as kept_days
    where
        not exists (
            select 1
            from source
            where source._batch_date = kept_days.batch_date
        )

)
{%- endmacro %}
