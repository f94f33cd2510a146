{#- An index on a model's table, for its post_hook: "{{ table_index(this, 'tender', 'tender_id') }}"
    creates index <table>_tender_idx on (tender_id). nulls_not_distinct (with unique): two rows
    whose columns are equal or both null are duplicates, as group by (unique_combination) sees them.

    A rebuilt table replaces the old one inside the build's transaction: the old table, renamed
    to <table>__dbt_backup and dropped only after the commit, still holds the index name then.
    `create index if not exists <table>_x_idx` therefore skipped silently on every second build
    and left the new table without its index (the calendar lookups of fct_time_limits took 47 s
    instead of 1 s). The old table's index is dropped first; the new table always gets its own. -#}
{% macro table_index(relation, name, columns, unique=false, include=none, where=none, nulls_not_distinct=false) -%}
    {%- set index_name = relation.identifier ~ '_' ~ name ~ '_idx' -%}
    drop index if exists {{ relation.schema }}.{{ index_name }};
    create {% if unique %}unique {% endif %}index {{ index_name }} on {{ relation }} ({{ columns }})
    {%- if include %} include ({{ include }}){% endif %}
    {%- if nulls_not_distinct %} nulls not distinct{% endif %}
    {%- if where %} where {{ where }}{% endif %}
{%- endmacro %}

{#- The same for an incremental model's table: a night keeps the table and its index (`if not
    exists`: no rebuild of the whole index every night); a first build or a full refresh replaces
    the table, and table_index gives the new one its own index. -#}
{% macro lasting_index(relation, name, columns, unique=false, include=none, where=none, nulls_not_distinct=false) -%}
    {%- if is_incremental() -%}
    create {% if unique %}unique {% endif %}index if not exists {{ relation.identifier ~ '_' ~ name ~ '_idx' }}
    on {{ relation }} ({{ columns }})
    {%- if include %} include ({{ include }}){% endif %}
    {%- if nulls_not_distinct %} nulls not distinct{% endif %}
    {%- if where %} where {{ where }}{% endif %}
    {%- else -%}
    {{ table_index(relation, name, columns, unique, include=include, where=where, nulls_not_distinct=nulls_not_distinct) }}
    {%- endif -%}
{%- endmacro %}
