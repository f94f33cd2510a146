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
{#- the reference populations, narrowest first: (level, partition) -#}
{%- set levels = [
    (1, 'category, prefecture_code, lot_year'),
    (2, 'category, lot_year'),
    (3, 'category'),
    (4, 'null::int'),
] -%}

with screens as (

    select * from {{ ref('int_lots_price_screened') }}
    where n_bids is not null

),

-- each screen's suspicion percentiles in the four populations, over the lots where it is defined;
-- sorted as narrow rows, one screen at a time (sorting whole rows 28 times cost 3 s at scale 1)
-- (the layout linter misreads the indentation of these generated columns and joins)
-- noqa: disable=LT02
{%- for s, direction in screens.items() %}
{{ s }}_ranks as (

    select
        tender_id
        {%- for level, parts in levels %},
        percent_rank() over (partition by {{ parts }} order by {{ s }} {{ direction }}) as {{ s }}_pr_{{ level }}
        {%- endfor %}
    from screens
    where {{ s }} is not null

),
{% endfor %}
-- comparable populations, from the narrowest to the widest; a lot is ranked within the
-- narrowest one holding at least var ps_min_population lots
populations as (

    select
        screens.*,
        count(*) over (partition by screens.category, screens.prefecture_code, screens.lot_year) as n_pop_1,
        count(*) over (partition by screens.category, screens.lot_year) as n_pop_2,
        count(*) over (partition by screens.category) as n_pop_3,
        count(*) over () as n_pop_4
        {%- for s in screens %}
        {%- for level, parts in levels %},
        {{ s }}_ranks.{{ s }}_pr_{{ level }}
        {%- endfor %}
        {%- endfor %}
    from screens
    {%- for s in screens %}
    left join {{ s }}_ranks on screens.tender_id = {{ s }}_ranks.tender_id
    {%- endfor %}

),
-- noqa: enable=LT02

ranked as (

    select
        populations.*,
        case
            when populations.n_pop_1 >= {{ var('ps_min_population', 30) }} then 1
            when populations.n_pop_2 >= {{ var('ps_min_population', 30) }} then 2
            when populations.n_pop_3 >= {{ var('ps_min_population', 30) }} then 3
            else 4
        end as population_level
    from populations

),

final as (

    select
        tender_id,
        category,
        prefecture_code,
        lot_year,
        n_bids,
        population_level,
        case population_level
            when 1 then 'category x prefecture x year'
            when 2 then 'category x year'
            when 3 then 'category'
            else 'all lots'
        end as population,
        case population_level when 1 then n_pop_1 when 2 then n_pop_2 when 3 then n_pop_3 else n_pop_4 end as population_size,
        {%- for s in screens %}
        {{ s }},
        case population_level
            when 1 then {{ s }}_pr_1 when 2 then {{ s }}_pr_2 when 3 then {{ s }}_pr_3 else {{ s }}_pr_4
        end as {{ s }}_suspicion,
        {%- endfor %}
        {%- for s in scored_screens %}
        {{ s }}_strength,
        {%- endfor %}
        -- Fisher's combination of the scored screens defined for the lot (KURT needs 4 bids)
        screen_score
    from ranked

)

select * from final
