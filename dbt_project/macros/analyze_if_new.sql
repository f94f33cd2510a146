{#- Statistics for an incremental model's table where it has none: after a first build or a full
    refresh (a new table: reltuples -1), not after a night that replaced a few of its keys, whose
    statistics autovacuum keeps (it analyzes a table once a tenth of its rows changed). A post_hook,
    before any index is built (an index build sets reltuples). At scale 1, `analyze` of
    int_bids_joined_to_lots alone took 1.0 s of a night that changed ~50 lots (issue #18). -#}
{% macro analyze_if_new(relation) -%}
    do $analyze$
    begin
        if (select c.reltuples < 0 from pg_class as c where c.oid = '{{ relation }}'::regclass) then
            analyze {{ relation }};
        end if;
    end
    $analyze$
{%- endmacro %}
