{#- The upper tails of the co-bidding null (macros/poisson_tail.sql) as SQL functions in the
    intermediate schema, defined at the start of every dbt run (on-run-start). A function is
    called once per row for a few microseconds; the same sum as a correlated subquery costs
    0.2-0.3 ms of executor set-up per row (36 k pairs of a scale-16 night: 6-12 s), and as one
    set-based pass over all rows' terms it sorts a full build's millions of pairs at once (over
    20 GB of temporary files at scale 16). Each function sums its terms in order of k, as the
    subquery did: the same floats, bit for bit (checked on 200,000 random inputs, #18).
    A definition is replaced only when its text changed (another build on the same server may
    be running it). A change here changes no model's checksum: deploy it like any macro, with the
    full refresh of docs/architecture.md. -#}
{% macro define_tail_functions() -%}
    {%- set functions = [
        ('ln_probability_sum', 'terms float8[]', ln_probability_sum_body()),
        ('hypergeometric_upper_tail_ln', 'total float8, k_a float8, k_b float8, observed float8',
         hypergeometric_tail_body()),
        ('poisson_upper_tail_ln', 'lambda float8, observed float8', poisson_tail_body()),
    ] %}
    create schema if not exists intermediate;
    {%- for name, arguments, body in functions %}
    do $define$ begin
        if not exists (
            select from pg_proc
            where
                proname = '{{ name }}'
                and pronamespace = 'intermediate'::regnamespace
                and md5(prosrc) = '{{ local_md5(body) }}'
        ) then
            create or replace function intermediate.{{ name }}({{ arguments }}) returns float8
            language plpgsql immutable parallel safe as $body${{ body }}$body$;
        end if;
    exception when unique_violation then
        null;  -- another build on the same server defined it in between
    end $define$;
    {%- endfor %}
{%- endmacro %}

{#- ln P(X >= observed), X ~ Hypergeometric(total, k_a, k_b): terms k = observed .. min(k_a, k_b,
    observed + 60), ln P(X = k) from lgamma, summed by log-sum-exp. 0 (p = 1) when nothing or no
    more than expected (k_a k_b / total) was seen, or an input is unknown. -#}
{% macro hypergeometric_tail_body() -%}
declare
    base float8;
    terms float8[] := '{}';
begin
    if observed is null or k_a is null or k_b is null or total is null
        or observed = 0 or observed <= k_a * k_b / total then
        return 0.0;
    end if;
    base := lgamma(k_a + 1.0) + lgamma(total - k_a + 1.0) + lgamma(k_b + 1.0)
        + lgamma(total - k_b + 1.0) - lgamma(total + 1.0);
    for k in observed::integer .. least(k_a, k_b, observed + 60)::integer loop
        terms := terms || (
            base - lgamma(k + 1.0) - lgamma(k_a - k + 1.0) - lgamma(k_b - k + 1.0) - lgamma(total - k_a - k_b + k + 1.0)
        );
    end loop;
    return coalesce(intermediate.ln_probability_sum(terms), 0.0);
end
{%- endmacro %}

{#- ln P(X >= observed), X ~ Poisson(lambda): terms k = observed .. observed + 60 (past the mean
    they fall at least geometrically), by log-sum-exp: exact where the tail is below the
    smallest float. 0 (p = 1) when nothing or no more than expected was seen, or lambda is
    unknown. -#}
{% macro poisson_tail_body() -%}
declare
    terms float8[] := '{}';
begin
    if observed is null or lambda is null or observed = 0 or observed <= lambda then
        return 0.0;
    end if;
    for k in observed::integer .. observed::integer + 60 loop
        terms := terms || (-lambda + k * ln(lambda) - lgamma(k + 1.0));
    end loop;
    return intermediate.ln_probability_sum(terms);
end
{%- endmacro %}

{#- ln of a sum of probabilities given their lns (log-sum-exp): the largest plus the ln of the
    sum of each one's ratio to it (at least e^-700, so that no term underflows to nothing),
    summed in the array's order; at most 0; null for no terms. -#}
{% macro ln_probability_sum_body() -%}
declare
    term float8;
    top float8;
    total_scaled float8 := 0;
begin
    foreach term in array terms loop
        top := greatest(top, term);
    end loop;
    if top is null then
        return null;
    end if;
    foreach term in array terms loop
        total_scaled := total_scaled + exp(greatest(term - top, -700));
    end loop;
    return least(0.0, top + ln(total_scaled));
end
{%- endmacro %}
