{#- The combination of columns is unique (a composite key). Written here because the
    dbt hub (dbt_utils) is out of reach at install time. -#}
{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as n
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
