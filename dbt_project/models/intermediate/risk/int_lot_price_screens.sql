-- grain: one row per tender (lot) with at least 3 valid priced bids: the bid-rigging price screens,
-- their percentiles within a comparable population, and screen_score: how far the lot's screens
-- lie in the tail of competitive lots of labelled markets (computed per lot, incrementally, in
-- int_lots_price_screened; formulas in _risk__models.yml, the method in docs/evaluation.md)
{{ config(
    post_hook=[
        "{{ table_index(this, 'tender', 'tender_id', unique=true) }}",
        "analyze {{ this }}",
    ],
) }}

{%- set screens = {
    'cv': 'desc',
    'spd': 'desc',
    'diffp': 'asc',
    'rd': 'asc',
    'kurt': 'desc',
    'skew': 'desc',
    'ks': 'desc',
} -%}
{#- the order in which values grow more suspicious: 'desc' = a low value is suspicious, 'asc' = a
    high value is; the suspicion percentile is the percent_rank in that order (1 = most
    suspicious). KS and KURT are 'desc': in all three labelled markets collusive lots have the
    lower values (bids spread evenly over their range: cover bids placed, not drawn) -#}
{%- set scored_screens = ['cv', 'ks', 'kurt'] -%}
{#- the reference populations, narrowest first: 1 category x prefecture x year, 2 category x
    year, 3 category, 4 all lots -#}
{%- set levels = [1, 2, 3, 4] -%}

with screens as (

    select * from {{ ref('int_lots_price_screened') }}
    where n_bids is not null

),

-- comparable populations, from the narrowest to the widest; a lot is ranked within the
-- narrowest one holding at least var ps_min_population lots. Counted by group (a few hundred
-- populations) and numbered, so that the lots are sorted by a number and not by three texts
-- under a collation (sorting every lot's row 28 times by its texts was 16 of the model's 20 s
-- at scale 16)
population_1 as (

    select
        category,
        lot_year,
        prefecture_code,
        count(*) as n_pop_1
    from screens
    group by category, lot_year, prefecture_code

),

population_sizes as (

    select
        *,
        sum(n_pop_1) over (partition by category, lot_year)::bigint as n_pop_2,
        sum(n_pop_1) over (partition by category)::bigint as n_pop_3,
        sum(n_pop_1) over ()::bigint as n_pop_4,
        dense_rank() over (order by category, lot_year, prefecture_code) as population_id_1,
        dense_rank() over (order by category, lot_year) as population_id_2,
        dense_rank() over (order by category) as population_id_3,
        1 as population_id_4
    from population_1

),

population_levels as (

    select
        *,
        case
            when n_pop_1 >= {{ var('ps_min_population', 30) }} then 1
            when n_pop_2 >= {{ var('ps_min_population', 30) }} then 2
            when n_pop_3 >= {{ var('ps_min_population', 30) }} then 3
            else 4
        end as population_level
    from population_sizes

),

-- a wider population is ranked only where some lot of it falls back to it (at scale 16, 18 of
-- 266,063 lots)
populations as (

    select
        *,
        array[category, lot_year::text, prefecture_code] as population_key,
        true as ranked_at_1,
        bool_or(population_level = 2) over (partition by category, lot_year) as ranked_at_2,
        bool_or(population_level = 3) over (partition by category) as ranked_at_3,
        bool_or(population_level = 4) over () as ranked_at_4
    from population_levels

),

-- (an array compares its nulls as equal, as a partition does, and hashes)
lots as (

    select
        screens.*,
        {%- for level in levels %}
        populations.population_id_{{ level }},
        populations.ranked_at_{{ level }},
        populations.n_pop_{{ level }},
        {%- endfor %}
        populations.population_level
    from screens
    inner join populations
        on array[screens.category, screens.lot_year::text, screens.prefecture_code] = populations.population_key

),

-- each screen's suspicion percentile in the populations that some lot is ranked in: percent_rank
-- over the population's lots where the screen is defined, written out as (rank - 1) / (n - 1)
-- so that the seven screens are ranked in one pass (the same double-precision division as
-- percent_rank: the same values)
-- (the layout linter misreads the indentation of these generated columns)
-- noqa: disable=LT02
{%- for level in levels %}
ranks_{{ level }} as (

    select
        tender_id
        {%- for s, direction in screens.items() %},
        case when {{ s }} is not null then
            coalesce(
                (rank() over (population order by {{ s }} {{ direction }} nulls last) - 1)::double precision
                / nullif(count({{ s }}) over population - 1, 0),
                0
            )
        end as {{ s }}_pr
        {%- endfor %}
    from lots
    where ranked_at_{{ level }}
    window population as (partition by population_id_{{ level }})

),
{% endfor %}
-- noqa: enable=LT02

final as (

    select
        lots.tender_id,
        lots.category,
        lots.prefecture_code,
        lots.lot_year,
        lots.n_bids,
        lots.population_level,
        case lots.population_level
            when 1 then 'category x prefecture x year'
            when 2 then 'category x year'
            when 3 then 'category'
            else 'all lots'
        end as population,
        case lots.population_level
            when 1 then lots.n_pop_1 when 2 then lots.n_pop_2 when 3 then lots.n_pop_3 else lots.n_pop_4
        end as population_size,
        {%- for s in screens %}
        lots.{{ s }},
        case lots.population_level
            when 1 then ranks_1.{{ s }}_pr when 2 then ranks_2.{{ s }}_pr
            when 3 then ranks_3.{{ s }}_pr else ranks_4.{{ s }}_pr
        end as {{ s }}_suspicion,
        {%- endfor %}
        {%- for s in scored_screens %}
        lots.{{ s }}_strength,
        {%- endfor %}
        -- Fisher's combination of the scored screens defined for the lot (KURT needs 4 bids)
        lots.screen_score
    from lots
    inner join ranks_1 on lots.tender_id = ranks_1.tender_id
    {%- for level in levels if level > 1 %}
    left join ranks_{{ level }} on lots.tender_id = ranks_{{ level }}.tender_id
    {%- endfor %}

)

select * from final
