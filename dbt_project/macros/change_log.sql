{#- The change log of the per-key incremental models (issue #18; table ops.model_changes,
    plugins/ggzy/sql/026_model_changes.sql). Every build of a model with the strategy
    replace_changed_keys writes down what it recomputed: an incremental run, the keys it
    replaced (tombstones included: a key whose rows it removed); a first build or a full
    refresh, one row with key_value null (the whole table). The night's data tests read the
    keys logged since the last night that passed (macros/data_tests_scope.sql). -#}

{#- In the strategy, after the rows are replaced: the keys of the temporary relation. -#}
{% macro log_changed_keys(model_name, key, keys_relation) -%}
    insert into ops.model_changes (model, key_value)
    select distinct '{{ model_name }}', {{ key }}::text
    from {{ keys_relation }};

    insert into ops.model_builds (model, whole, version) values ('{{ model_name }}', false, '{{ model_version() }}')
{%- endmacro %}

{#- What a model's rows depend on besides its inputs: its file and the vars in its config
    `fingerprint_salt` (the same text its fingerprints take as salt). -#}
{% macro model_version() -%}
    {{- local_md5(model_code_checksum() ~ '/' ~ config.get('fingerprint_salt', '')) -}}
{%- endmacro %}

{#- On an incremental run of a model that reads per-key `parents` only through their keys: the
    keys those parents logged since this model's last build, as SQL text of a select of one
    column `key_value`; none (compare every key) when the model has no build of its current
    version (first run, changed code or vars) or a parent replaced its whole table since.
    Read when the model compiles, right before it runs, after its parents. -#}
{% macro changed_keys_since_last_build(parents) -%}
    {%- if not is_incremental() or not execute -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set names = "'" ~ parents | join("', '") ~ "'" -%}
    {%- set parent_refreshed -%}
        exists (
            select 1 from ops.model_builds as parent
            where parent.model in ({{ names }}) and parent.whole and parent.built_at > last_build.built_at
        )
    {%- endset -%}
    {%- set built_at = last_build_of_this_version(parent_refreshed) -%}
    {%- if built_at is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set keys -%}
        select changes.key_value
        from ops.model_changes as changes
        where changes.model in ({{ names }}) and changes.logged_at > '{{ built_at }}'::timestamptz
    {%- endset -%}
    {{- return(keys) -}}
{%- endmacro %}

{#- changed_keys_since_last_build for a model whose fingerprints read "context/key", the context
    being what every key shares (`context_sql`: SQL of one md5, e.g. of a seed): none (compare
    every key) also when the kept fingerprints carry another context than the one it gives now,
    or none (an empty table). -#}
{% macro changed_keys_since_last_build_in_context(parents, context_sql) -%}
    {%- set logged = changed_keys_since_last_build(parents) -%}
    {%- if logged is not none -%}
        {%- set same_context = run_query(
            "select (" ~ context_sql ~ ") = (select split_part(kept.input_fingerprint, '/', 1) from "
            ~ this ~ " as kept limit 1)"
        ) -%}
        {%- if not same_context.rows[0][0] -%}
            {{- return(none) -}}
        {%- endif -%}
    {%- endif -%}
    {{- return(logged) -}}
{%- endmacro %}

{#- The instant (text) of this model's last build, when it was of the model's current version
    (macro model_version: code and vars) and `unless` (SQL, a condition on
    last_build.built_at) does not hold; none otherwise (no build yet, changed code or vars). -#}
{% macro last_build_of_this_version(unless) -%}
    {%- set query -%}
        select last_build.built_at::text
        from (
            select built_at, version
            from ops.model_builds
            where model = '{{ this.identifier }}'
            order by built_at desc
            limit 1
        ) as last_build
        where last_build.version = '{{ model_version() }}' and not {{ unless }}
    {%- endset -%}
    {%- set found = run_query(query) -%}
    {{- return(found.rows[0][0] if found.rows | length > 0 else none) -}}
{%- endmacro %}

{#- The same for a per-key model reading STAGING tables (their rows carry the load's stamp,
    loaded_at, indexed): on an incremental run, the keys (lots) whose staging input rows may have
    changed since this model's last build of its current version, as SQL text of a select of one
    column `key_value`; none (compare every key) where changed_keys_since_last_build gives none,
    or when the batch ledger shows, since that build, a day of the inputs' feeds stamped again
    whose rows had been loaded before (a re-delivery, a hand edit of raw stamped as
    architecture.md asks): staging keeps no trace of the rows such a day lost or reverted to an
    older version, nor of their lots. `staged`: one entry per way a staging table names lots:
    (relation, column) when `column` is the lot key itself, (relation, column, lots, lots_column)
    when the changed rows' `column` values are looked up in `lots_column` of relation `lots`
    (which has the lot key): an entity's lots through the bids, a bid's lot before it moved
    through this model's own rows. `parents`: per-key models read through their keys, as for
    changed_keys_since_last_build. A new row, a changed one and a back-filled day's winner carry
    a stamp after the build (less var staging_lookback, as staging reads the ledger). -#}
{% macro changed_keys_since_last_staged(staged, parents=[]) -%}
    {%- set parent_keys = changed_keys_since_last_build(parents) if parents else none -%}
    {%- if not is_incremental() or not execute or (parents and parent_keys is none) -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set feeds = [] -%}
    {%- for input in staged if input[0].identifier.split('__')[0][4:] not in feeds -%}
        {%- do feeds.append(input[0].identifier.split('__')[0][4:]) -%}
    {%- endfor -%}
    {%- set lookback = "interval '" ~ var('staging_lookback', '0 seconds') ~ "'" -%}
    {%- set redelivered -%}
        exists (
            select 1 from raw.batches as batch
            where
                batch.feed in ('{{ feeds | join("', '") }}')
                and batch.loaded_at > last_build.built_at - {{ lookback }}
                and exists (
                    select 1 from raw.batch_events as event
                    where
                        event.feed = batch.feed and event.batch_date = batch.batch_date
                        and event.event in ('loaded', 'reloaded') and event.at < batch.loaded_at
                )
        )
    {%- endset -%}
    {%- set built_at = last_build_of_this_version(redelivered) -%}
    {%- if built_at is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set stamped_after = "'" ~ built_at ~ "'::timestamptz - " ~ lookback -%}
    {%- set key = config.get('unique_key') -%}
    {#- one array, unnested: the planner takes it for a few keys and reads the model's own rows of
        them by index (as a union of index scans it guessed thousands, and scanned the table); no
        aliases: `dbt run --empty` renders a ref as an aliased subquery -#}
    {%- set keys -%}
        select unnest(array(
        {%- for input in staged %}
        {%- if input | length == 2 %}
        select {{ input[1] }}::text as key_value
        from {{ input[0] }}
        where loaded_at > {{ stamped_after }}
        {%- else %}
        select {{ key }}::text as key_value
        from {{ input[2] }}
        where {{ input[3] }} = any(array(
            select {{ input[1] }} from {{ input[0] }} where loaded_at > {{ stamped_after }}
        ))
        {%- endif %}
        {%- if not loop.last or parent_keys is not none %}
        union
        {%- endif %}
        {%- endfor %}
        {%- if parent_keys is not none %}
        {{ parent_keys }}
        {%- endif %}
        )) as key_value
    {%- endset -%}
    {{- return(keys) -}}
{%- endmacro %}

{#- Every model's post-hook (dbt_project.yml): a full build of a replace_changed_keys model
    logs that the whole table changed; anything else, nothing. -#}
{% macro log_full_build() -%}
    {%- if config.get('incremental_strategy') == 'replace_changed_keys' and not is_incremental() -%}
    insert into ops.model_changes (model, key_value) values ('{{ this.identifier }}', null);
    insert into ops.model_builds (model, whole, version) values ('{{ this.identifier }}', true, '{{ model_version() }}')
    {%- endif -%}
{%- endmacro %}

{#- on-run-end: the log keeps 90 days (a night's tests read back to the last night that passed;
    older than that, the weekly whole run has tested every row since). -#}
{% macro prune_change_log() -%}
    delete from ops.model_changes where logged_at < now() - interval '90 days'
{%- endmacro %}
