{#- Seeds are reloaded only when their file or configuration changed (#18). dbt reloads every seed
    on every build: a night's 17 reference tables truncated and inserted again (drop and create
    for those configured full_refresh), with their grants, before the models that read them can
    start. The digest of the seed's file and configuration is kept as the table's comment; a
    build whose digest matches leaves the table as it is. `--full-refresh` reloads every seed. -#}
{% materialization seed, adapter='postgres' %}
    {%- set digest = 'seed ' ~ model.original_file_path ~ ' ' ~ local_md5(model.checksum.checksum ~ '/' ~ tojson(model.config)) %}
    {%- set old_relation = adapter.get_relation(database=database, schema=schema, identifier=model['alias']) %}
    {%- set kept_digest = none %}
    {%- if old_relation is not none and old_relation.is_table and not flags.FULL_REFRESH %}
        {%- set kept = run_query(
            "select obj_description(" ~ dbt.string_literal(old_relation.render()) ~ "::regclass, 'pg_class')"
        ) %}
        {%- set kept_digest = kept.columns[0].values()[0] %}
    {%- endif %}
    {%- if kept_digest == digest %}
        {#- dbt's seed task reads the file's table back after the build -#}
        {%- do store_result('agate_table', response='OK', agate_table=load_agate_table()) %}
        {% call noop_statement('main', 'UNCHANGED 0', 'UNCHANGED', 0) %}
            -- {{ digest }}: the table holds this file's rows already
        {% endcall %}
        {{ return({'relations': [this.incorporate(type='table')]}) }}
    {%- endif %}
    {%- set result = dbt.materialization_seed_default() %}
    {% call statement('seed_digest') %}
        comment on table {{ this }} is {{ dbt.string_literal(digest) }}
    {% endcall %}
    {{ adapter.commit() }}
    {{ return(result) }}
{% endmaterialization %}
