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

{#- ln P(X >= observed), X ~ Hypergeometric(total, k_a, k_b): the chance that two firms choosing
    k_a and k_b of `total` lots independently meet in at least `observed` of them (co-bidding).
    The terms k = observed .. min(k_a, k_b), at most 61 of them (past the mode they fall fast; the
    rest is negligible for a screen), ln P(X = k) from lgamma, summed by log-sum-exp in order of k:
    exact where the tail is below the smallest float. 0 (p = 1) when nothing or no more than
    expected (k_a k_b / total) was seen. A subquery per row, 0.2-0.3 ms of executor set-up each
    (36 k pairs of a scale-16 night: 6-12 s). All rows' terms as one set-based pass took 5 s on
    that night, but sorted a full build's millions of pairs as one: over 20 GB of temporary files
    at scale 16, above temp_file_limit (a back-filled early day re-judges as many). -#}
{% macro hypergeometric_upper_tail_ln(total, k_a, k_b, observed) -%}
    {%- set term -%}
        lgamma({{ k_a }} + 1.0) + lgamma({{ total }} - {{ k_a }} + 1.0) + lgamma({{ k_b }} + 1.0)
        + lgamma({{ total }} - {{ k_b }} + 1.0) - lgamma({{ total }} + 1.0) - lgamma(t.k + 1.0)
        - lgamma({{ k_a }} - t.k + 1.0) - lgamma({{ k_b }} - t.k + 1.0)
        - lgamma({{ total }} - {{ k_a }} - {{ k_b }} + t.k + 1.0)
    {%- endset -%}
    case
        when {{ observed }} = 0 or {{ observed }} <= {{ k_a }}::float8 * {{ k_b }} / {{ total }} then 0.0::float8
        else least(0.0, (
            select max(terms.top) + ln(sum(exp(greatest(terms.term - terms.top, -700)) order by terms.k))
            from (
                select
                    t.k,
                    {{ term }} as term,
                    max({{ term }}) over () as top
                from generate_series(
                    {{ observed }}::integer, least({{ k_a }}, {{ k_b }}, {{ observed }} + 60)::integer
                ) as t (k)
            ) as terms
        ))
    end
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
