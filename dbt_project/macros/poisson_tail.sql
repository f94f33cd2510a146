{#- P(X >= observed) for X ~ Poisson(lambda): the chance of seeing at least that many of a pattern
    when lambda are expected. Summed from the observed count up over 60 terms (past the mean
    they fall at least geometrically); 1 when nothing or no more than expected was seen, or
    when lambda is unknown (no spread to judge chance by). -#}
{% macro poisson_upper_tail(lambda, observed) -%}
    case
        when {{ observed }} = 0 or {{ lambda }} is null or {{ observed }} <= {{ lambda }} then 1.0::float8
        when {{ lambda }} <= 0 then 0.0::float8
        else least(1.0, (
            select sum(exp(greatest(-700.0, -({{ lambda }}) + t.k * ln({{ lambda }}) - lgamma(t.k + 1.0))))
            from generate_series({{ observed }}::integer, {{ observed }}::integer + 60) as t (k)
        ))
    end
{%- endmacro %}

{#- ln P(X >= observed), X ~ Poisson(lambda), by log-sum-exp: exact where the tail is below the
    smallest float. 0 (p = 1) when nothing or no more than expected was seen. -#}
{% macro poisson_upper_tail_ln(lambda, observed) -%}
    case
        when {{ observed }} = 0 or {{ lambda }} is null or {{ observed }} <= {{ lambda }} then 0.0::float8
        else least(0.0, (
            select max(terms.top) + ln(sum(exp(greatest(terms.term - terms.top, -700))))
            from (
                select
                    -({{ lambda }}) + t.k * ln({{ lambda }}) - lgamma(t.k + 1.0) as term,
                    max(-({{ lambda }}) + t.k * ln({{ lambda }}) - lgamma(t.k + 1.0)) over () as top
                from generate_series({{ observed }}::integer, {{ observed }}::integer + 60) as t (k)
            ) as terms
        ))
    end
{%- endmacro %}
