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
    from {{ keys_relation }}
{%- endmacro %}

{#- Every model's post-hook (dbt_project.yml): a full build of a replace_changed_keys model
    logs that the whole table changed; anything else, nothing. -#}
{% macro log_full_build() -%}
    {%- if config.get('incremental_strategy') == 'replace_changed_keys' and not is_incremental() -%}
    insert into ops.model_changes (model, key_value) values ('{{ this.identifier }}', null)
    {%- endif -%}
{%- endmacro %}

{#- on-run-end: the log keeps 90 days (a night's tests read back to the last night that passed;
    older than that, the weekly whole run has tested every row since). -#}
{% macro prune_change_log() -%}
    delete from ops.model_changes where logged_at < now() - interval '90 days'
{%- endmacro %}
