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
    smallest float. 0 (p = 1) when nothing or no more than expected was seen. A function
    (macros/tail_functions.sql). -#}
{% macro poisson_upper_tail_ln(lambda, observed) -%}
    intermediate.poisson_upper_tail_ln(({{ lambda }})::float8, ({{ observed }})::float8)
{%- endmacro %}

{#- ln P(X >= observed), X ~ Hypergeometric(total, k_a, k_b): the chance that two firms choosing
    k_a and k_b of `total` lots independently meet in at least `observed` of them (co-bidding).
    The terms k = observed .. min(k_a, k_b), at most 61 of them (past the mode they fall fast; the
    rest is negligible for a screen), summed by log-sum-exp in order of k: exact where the tail is
    below the smallest float. 0 (p = 1) when nothing or no more than expected (k_a k_b / total)
    was seen. A function (macros/tail_functions.sql). -#}
{% macro hypergeometric_upper_tail_ln(total, k_a, k_b, observed) -%}
    intermediate.hypergeometric_upper_tail_ln(
        ({{ total }})::float8, ({{ k_a }})::float8, ({{ k_b }})::float8, ({{ observed }})::float8
    )
{%- endmacro %}

{#- For each count o of `observed_column` in `relation`: the Poisson mean above which o or more
    events have chance > `max_p` (bisection, 40 halvings of [0, o]). The body of a recursive CTE
    that must be named critical_means: `critical_means (observed, low, high, step) as ({{
    critical_poisson_means('pairs', 'observed', var('net_pair_max_p', 0.001)) }})`; read the rows
    with step = 40, `high` the upper end (a mean of `high` or more no longer makes o improbable). -#}
{% macro critical_poisson_means(relation, observed_column, max_p) -%}
    select distinct
        {{ observed_column }},
        0.0::float8,
        {{ observed_column }}::float8,
        0
    from {{ relation }}

    union all

    select
        critical_means.observed,
        case
            when mid.is_improbable then mid.mean
            else critical_means.low
        end,
        case
            when mid.is_improbable then critical_means.high
            else mid.mean
        end,
        critical_means.step + 1
    from critical_means
    cross join
        lateral (  -- noqa: ST05
            select
                (critical_means.low + critical_means.high) / 2 as mean,
                {{ poisson_upper_tail_ln('(critical_means.low + critical_means.high) / 2', 'critical_means.observed') }}
                < ln({{ max_p }}) as is_improbable
        ) as mid
    where critical_means.step < 40
{%- endmacro %}
