-- grain: one row per tender (lot) with at least 3 valid priced bids: the bid-rigging price screens,
-- their percentiles within a comparable population, and screen_score: how far the lot's screens
-- lie in the tail of competitive lots of labelled markets (computed per lot, incrementally, in
-- int_lots_price_screened; formulas in _risk__models.yml, the method in docs/evaluation.md)
-- Built whole every night: a lot that joins a population moves the percentile of every lot in it
-- (n and the ranks below it change), so a night rewrites every lot of the populations its lots
-- join. The scale-1 Dec 31 night: 64 lots changed, in 28 of the 95 populations, which hold
-- 12,609 of the 16,575 lots (76 %: exactly the rows that differ after the night); at scale 16,
-- with about 16 times the night's lots over the same 95 populations, nearly every lot.
-- Statistics only for the columns readers select by (int_signals_screens): on every column,
-- analyze took as long as half the select (scale 1, 0.54-0.59 s; on these three, 0.11-0.17 s).
{{ config(
    post_hook=[
        "{{ table_index(this, 'tender', 'tender_id', unique=true) }}",
        "analyze {{ this }} (tender_id, screen_score, cv_suspicion)",
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

-- (its columns but the fingerprint: every lot's row is kept in memory twice below)
with screens as (

    select
        tender_id,
        category,
        prefecture_code,
        lot_year,
        n_bids,
        {%- for s in screens %}
        {{ s }},
        {%- endfor %}
        {%- for s in scored_screens %}
        {{ s }}_strength,
        {%- endfor %}
        screen_score
    from {{ ref('int_lots_price_screened') }}
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
        bool_or(population_level = 4) over () as ranked_at_4,
        -- the population the lot is ranked in
        case population_level
            when 1 then population_id_1 when 2 then population_id_2 when 3 then population_id_3 else population_id_4
        end as population_id
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
        populations.population_level,
        populations.population_id
    from screens
    inner join populations
        on array[screens.category, screens.lot_year::text, screens.prefecture_code] = populations.population_key

),

-- Each screen's suspicion percentile is its percent_rank in the suspicious order within the
-- lot's population: (rank - 1) / (n - 1), n the lots where the screen is defined, rank - 1 the
-- number of them that come first, i.e. whose suspicion key (the value, negated where a high
-- value is suspicious) is greater than the lot's. Counted, not ranked: each population's keys
-- sorted once into an array (a population at each level that some lot is ranked in), and the
-- lot's key looked up in it by binary search (width_bucket: how many are at most the key). A
-- window rank per screen sorted every lot's whole row seven times, and the ranks were joined
-- back by tender_id (on a 16-fold copy of the scale-1 lots, 264,272: the select's CPU 4.3-4.7 s
-- ranked, 3.3-3.7 s counted).
-- (the layout linter misreads the indentation of these generated columns)
-- noqa: disable=LT02
population_members as (
    {%- for level in levels %}
    {%- if not loop.first %}

    union all
    {%- endif %}

    select
        {{ level }} as population_level,
        population_id_{{ level }} as population_id
        {%- for s, direction in screens.items() %},
        {% if direction == 'asc' %}-{% endif %}{{ s }} as {{ s }}_key
        {%- endfor %}
    from lots
    where ranked_at_{{ level }}
    {%- endfor %}

),

population_keys as (

    select
        population_level,
        population_id
        {%- for s in screens %},
        array_agg({{ s }}_key order by {{ s }}_key) filter (where {{ s }}_key is not null) as {{ s }}_keys
        {%- endfor %}
    from population_members
    group by population_level, population_id

),

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
        {%- for s, direction in screens.items() %}
        lots.{{ s }},
        case when lots.{{ s }} is not null then
            coalesce(
                (
                    cardinality(population_keys.{{ s }}_keys)
                    - width_bucket({% if direction == 'asc' %}-{% endif %}lots.{{ s }}, population_keys.{{ s }}_keys)
                )::double precision
                / nullif(cardinality(population_keys.{{ s }}_keys) - 1, 0),
                0
            )
        end as {{ s }}_suspicion,
        {%- endfor %}
        {%- for s in scored_screens %}
        lots.{{ s }}_strength,
        {%- endfor %}
        -- Fisher's combination of the scored screens defined for the lot (KURT needs 4 bids)
        lots.screen_score
    from lots
    inner join population_keys
        on lots.population_level = population_keys.population_level and lots.population_id = population_keys.population_id

)
-- noqa: enable=LT02

select * from final
