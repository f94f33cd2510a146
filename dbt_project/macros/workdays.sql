{#- Working-day arithmetic on int_workdays (mainland China, with 调休).

    workday_seq counts working days up to and including a day, so a day off carries the
    number of the working day before it. Hence:
      add_workdays(d, n)      = the n-th working day after d (d itself not counted; n >= 1),
                                the usual way a time limit of "n working days" runs;
      workdays_between(a, b) = working days after a up to and including b
                                (= 0 when b is a or a day off right after it).
    A breach of "within n working days" is workdays_between(start, done) > n, i.e.
    done > add_workdays(start, n). Both take dates (use local_date() on timestamps) and
    return null outside the calendar's range. The calendar is read with .render() so that
    `dbt run --empty` (which wraps refs in an aliased subquery) still compiles. -#}

{% macro add_workdays(date_expr, n) -%}
    (
        select w_to.date_day
        from {{ ref('int_workdays').render() }} as w_from
        inner join {{ ref('int_workdays').render() }} as w_to
            on w_to.workday_seq = w_from.workday_seq + ({{ n }}) and w_to.is_workday
        where w_from.date_day = ({{ date_expr }})
    )
{%- endmacro %}

{% macro workdays_between(start_expr, end_expr) -%}
    (
        (select w_b.workday_seq from {{ ref('int_workdays').render() }} as w_b where w_b.date_day = ({{ end_expr }}))
        - (select w_a.workday_seq from {{ ref('int_workdays').render() }} as w_a where w_a.date_day = ({{ start_expr }}))
    )
{%- endmacro %}

{#- Is date_expr a working day? (null outside the calendar's range) -#}
{% macro is_workday(date_expr) -%}
    (select w.is_workday from {{ ref('int_workdays').render() }} as w where w.date_day = ({{ date_expr }}))
{%- endmacro %}
