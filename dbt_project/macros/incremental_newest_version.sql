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
