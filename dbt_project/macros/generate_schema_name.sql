{#- Use the folder's schema as named (staging, marts, ...), without the target prefix:
    one warehouse per environment, so analysts read marts.fct_closed_loop everywhere. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
