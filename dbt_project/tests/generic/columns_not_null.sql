{#- None of the columns is null (the rows where one is are returned): a table's not-null
    columns read in one pass, where dbt's not_null reads the table once per column and costs
    a dbt node each (#18). -#}
{% test columns_not_null(model, columns) %}
    select * from {{ model }}
    where {{ columns | join(' is null or ') }} is null
{% endtest %}
