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
    {%- set query -%}
        select last_build.built_at::text
        from (
            select built_at, version
            from ops.model_builds
            where model = '{{ this.identifier }}'
            order by built_at desc
            limit 1
        ) as last_build
        where
            last_build.version = '{{ model_version() }}'
            and not exists (
                select 1 from ops.model_builds as parent
                where parent.model in ({{ names }}) and parent.whole and parent.built_at > last_build.built_at
            )
    {%- endset -%}
    {%- set found = run_query(query) -%}
    {%- if found.rows | length == 0 -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set keys -%}
        select changes.key_value
        from ops.model_changes as changes
        where changes.model in ({{ names }}) and changes.logged_at > '{{ found.rows[0][0] }}'::timestamptz
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
