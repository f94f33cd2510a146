{#- An index on a model's table, for its post_hook: "{{ table_index(this, 'tender', 'tender_id') }}"
    creates index <table>_tender_idx on (tender_id).

    A rebuilt table replaces the old one inside the build's transaction: the old table, renamed
    to <table>__dbt_backup and dropped only after the commit, still holds the index name then.
    `create index if not exists <table>_x_idx` therefore skipped silently on every second build
    and left the new table without its index (the calendar lookups of fct_time_limits took 47 s
    instead of 1 s). The old table's index is dropped first; the new table always gets its own. -#}
{% macro table_index(relation, name, columns, unique=false, include=none, where=none) -%}
    {%- set index_name = relation.identifier ~ '_' ~ name ~ '_idx' -%}
    drop index if exists {{ relation.schema }}.{{ index_name }};
    create {% if unique %}unique {% endif %}index {{ index_name }} on {{ relation }} ({{ columns }})
    {%- if include %} include ({{ include }}){% endif %}
    {%- if where %} where {{ where }}{% endif %}
{%- endmacro %}
