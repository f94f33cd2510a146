{#- A lot to repair (int_tenders_linked_to_projects), as its kept row says: it has a code and no
    project has it, so it was judged among its repair candidates (repaired, or unmatched with
    a reason other than no code). `prefix`: the table's alias and a dot, or nothing (an index's
    predicate). -#}
{% macro kept_lot_to_repair(prefix='') -%}
    {{ prefix }}project_code_raw is not null and {{ prefix }}link_method in ('repaired', 'unmatched')
{%- endmacro %}
