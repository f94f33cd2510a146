{#- The analysis date of a run. Default: the newest loaded batch date, so that a rerun
    over the same batches gives identical marts whatever the wall clock says. -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date') -%}
        date '{{ var("as_of_date") }}'
    {%- else -%}
        (select coalesce(max(batch_date), date '2000-01-01') from raw.batches where status = 'loaded')
    {%- endif -%}
{%- endmacro %}

{% macro local_date(ts) -%}
    ({{ ts }} at time zone '{{ var("timezone") }}')::date
{%- endmacro %}

{% macro to_bool(col) -%}
    case
        when lower(trim({{ col }})) in ('true', 't', '1', 'yes', 'y', '是') then true
        when lower(trim({{ col }})) in ('false', 'f', '0', 'no', 'n', '否') then false
    end
{%- endmacro %}
