{#- The date the handling deadlines of alerts and clues are measured on. These are people's
    working deadlines on live case files (ops.alerts, ops.clues), not an analysis of the
    feeds: they run on the office's calendar today, so the default is today's date in the
    project's time zone, and the supervision marts are views (always current). Pin it with
    --vars '{handling_as_of: 2026-12-01}' to reproduce a past view. -#}
{% macro handling_as_of() -%}
    {%- if var('handling_as_of', none) -%}
        date '{{ var("handling_as_of") }}'
    {%- else -%}
        (now() at time zone '{{ var("timezone") }}')::date
    {%- endif -%}
{%- endmacro %}
