{#- Incremental staging: "the newest delivered version per key", kept up to date night by night.

    A staging model (tools/gen_staging.py) on an incremental run selects, for every key the
    batches loaded since its last run touch, the winner a full refresh would pick over ALL its
    delivered versions, and a row of nulls but the key (a "tombstone", batch_date null) for a
    touched key left with no version at all (its only day was re-delivered without it). The
    strategy below replaces the table's rows of those keys: delete them, insert the winners,
    not the tombstones.

    What it reads (issue #18: a night costs what it delivered, not the history): raw only for
    the delivered days (partition pruning), and the kept row of each touched key, which was
    the winner over every other day, unchanged since. Only a key whose kept row came from a
    delivered day (a re-delivered day: its version may be gone) reads its versions from all
    of raw. The table's indexes (key, batch_date, loaded_at) find those kept rows.

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
    {#- the planner's row count of the keys (a fresh temp table has none) picks the key index -#}
    analyze {{ arg_dict["temp_relation"] }};

    delete from {{ arg_dict["target_relation"] }} as t
    using {{ arg_dict["temp_relation"] }} as s
    where {{ newest_version_key_match('t', 's', key, config.get('nullable_key_columns', [])) }};

    insert into {{ arg_dict["target_relation"] }} ({{ columns }})
    select {{ columns }}
    from {{ arg_dict["temp_relation"] }}
    where batch_date is not null
{%- endmacro %}

{#- The batch days an incremental staging run must look at, and what they hold, as CTEs over
    {{ this }}, the batch ledger and the model's `typed` rows: watermark (the newest loaded_at
    kept, less var staging_lookback: a load's rows carry its start time, so of two loads open
    during a run the older may commit after it), delivered (days: the feed's batches the ledger
    has loaded, re-delivered or refused since) and new_versions (the typed rows of those days,
    read month by month). The ledger's loaded_at is now() of the load's transaction, the one its
    raw rows carry as _loaded_at, so every day whose rows changed since is there, a day a
    re-delivery emptied too; a refused day is there for nothing (its raw rows stayed) and costs a
    look. The ledger, not raw: `_loaded_at > watermark` reads all of raw (no index), the ledger a
    few hundred rows a feed and year. One definition for every generated stg_ model. -#}
{% macro staging_delivered_days(feed) -%}
-- the ledger by a name of its own: `dbt run --empty` renders a source as an aliased subquery
batch_ledger as (

    select * from {{ source('load_ledger', 'batches') }}

),

watermark as (

    select coalesce(max(kept.loaded_at), '-infinity') - interval '{{ var("staging_lookback", "0 seconds") }}' as loaded_after
    from {{ this }} as kept

),

delivered as (

    select coalesce(array_agg(batch.batch_date), '{}') as days
    from batch_ledger as batch
    inner join watermark on batch.loaded_at > watermark.loaded_after
    where batch.feed = '{{ feed }}'

),

new_versions as (

    -- what the delivered days hold now, read month by month: a lateral scan per month keeps
    -- that month's partitions only (run-time pruning; `= any(array)` alone prunes nothing)
    select month_versions.*
    from (
        select distinct date_trunc('month', delivered_day.batch_date)::date as first_day
        from unnest((select delivered.days from delivered)::date[]) as delivered_day (batch_date)
    ) as delivered_month
    cross join
        lateral (
            select typed.*
            from typed
            where
                typed.batch_date >= delivered_month.first_day
                and typed.batch_date < (delivered_month.first_day + interval '1 month')::date
                and typed.batch_date = any((select delivered.days from delivered)::date[])
            -- all rows; the offset keeps this a scan per month (not pulled up into a join of all raw)
            limit all offset 0  -- noqa: AM09
        ) as month_versions

)
{%- endmacro %}
