{#- Roles are created by `ggzy roles` with passwords from the environment; here we only
    make sure they exist (NOLOGIN placeholders) so that dbt grants never fail. -#}
{% macro ensure_roles() -%}
    {%- set roles = ['ggzy_pipeline', 'ggzy_analyst', 'ggzy_auditor', 'ggzy_superset', 'ggzy_public'] -%}
    {%- for r in roles %}
    do $$ begin
        if not exists (select 1 from pg_roles where rolname = '{{ r }}') then
            create role {{ r }} nologin;
        end if;
    exception when duplicate_object or unique_violation then
        null;  -- another build on the same server created it in between (roles are server-wide)
    end $$;
    {%- endfor %}
{%- endmacro %}

{% macro grant_schema_usage() -%}
    {%- set readers = {
        'staging': ['ggzy_auditor'],
        'intermediate': ['ggzy_auditor'],
        'reference': ['ggzy_auditor', 'ggzy_analyst', 'ggzy_superset'],
        'marts': ['ggzy_auditor', 'ggzy_analyst', 'ggzy_superset'],
        'disclosure': ['ggzy_auditor', 'ggzy_analyst', 'ggzy_superset', 'ggzy_public'],
        'analyst': ['ggzy_auditor', 'ggzy_analyst'],
    } -%}
    {%- for schema, roles in readers.items() %}
    do $$ begin
        if exists (select 1 from pg_namespace where nspname = '{{ schema }}') then
            {%- for r in roles %}
            execute 'grant usage on schema {{ schema }} to {{ r }}';
            {%- endfor %}
        end if;
    end $$;
    {%- endfor %}
{%- endmacro %}
