-- grain: one row per tender (lot) with at least 3 valid priced bids: the bid-rigging price screens
-- and their percentiles within a comparable population (formulas in _risk__models.yml)
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
    'kurt': 'asc',
    'skew': 'desc',
    'ks': 'asc',
} -%}
{%- set weights = var('ps_screen_weights', {
    'cv': 3, 'spd': 2, 'kurt': 1, 'diffp': 1, 'rd': 1, 'skew': 1, 'ks': 1,
}) -%}
{#- the order in which values grow more suspicious: 'desc' = a low value is suspicious
    (low CV, SPD, SKEW under cover bidding), 'asc' = a high value is (DIFFP, RD, KURT, KS);
    the suspicion percentile is the percent_rank in that order (1 = most suspicious) -#}
{#- the reference populations, narrowest first: (level, partition) -#}
{%- set levels = [
    (1, 'category, prefecture_code, lot_year'),
    (2, 'category, lot_year'),
    (3, 'category'),
    (4, 'null::int'),
] -%}

with bids as (

    select * from {{ ref('int_bids_joined_to_lots') }}

),

priced as (

    select
        tender_id,
        category,
        prefecture_code,
        lot_year,
        bid_price::float8 as price,
        count(*) over w_lot as n,
        avg(bid_price::float8) over w_lot as mean_price,
        stddev_samp(bid_price::float8) over w_lot as sd_price,
        row_number() over (w_lot order by bid_price, bid_id) as price_rank
    from bids
    where is_valid and bidder_bid_seq = 1 and bid_price > 0
    window w_lot as (partition by tender_id)

),

moments as (

    select
        tender_id,
        min(category) as category,
        min(prefecture_code) as prefecture_code,
        min(lot_year) as lot_year,
        min(n) as n_bids,
        min(mean_price) as mean_price,
        min(sd_price) as sd_price,
        min(price) as b1,
        min(price) filter (where price_rank = 2) as b2,
        max(price) as b_max,
        stddev_samp(price) filter (where price_rank > 1) as sd_losing,
        sum(power((price - mean_price) / nullif(sd_price, 0), 3)) as sum_z3,
        sum(power((price - mean_price) / nullif(sd_price, 0), 4)) as sum_z4
    from priced
    where n >= 3
    group by tender_id

),

-- Kolmogorov-Smirnov distance between the bids' empirical distribution and the uniform
-- distribution over their range (scale-free, so the same on standardised bids)
ks_terms as (

    select
        priced.tender_id,
        max(greatest(
            priced.price_rank::float8 / priced.n - u.f,
            u.f - (priced.price_rank - 1)::float8 / priced.n
        )) as ks
    from priced
    inner join moments on priced.tender_id = moments.tender_id
    cross join
        lateral (  -- noqa: ST05
            select (priced.price - moments.b1) / nullif(moments.b_max - moments.b1, 0) as f
        ) as u
    where priced.n >= 3
    group by priced.tender_id

),

screens as (

    select
        moments.tender_id,
        moments.category,
        moments.prefecture_code,
        moments.lot_year,
        moments.n_bids,
        moments.sd_price / nullif(moments.mean_price, 0) as cv,
        (moments.b_max - moments.b1) / nullif(moments.b1, 0) as spd,
        (moments.b2 - moments.b1) / nullif(moments.b1, 0) as diffp,
        (moments.b2 - moments.b1) / nullif(moments.sd_losing, 0) as rd,
        case when moments.n_bids >= 4 then
                moments.n_bids * (moments.n_bids + 1.0)
                / ((moments.n_bids - 1.0) * (moments.n_bids - 2.0) * (moments.n_bids - 3.0)) * moments.sum_z4
                - 3.0 * power(moments.n_bids - 1.0, 2) / ((moments.n_bids - 2.0) * (moments.n_bids - 3.0))
        end as kurt,
        moments.n_bids / ((moments.n_bids - 1.0) * (moments.n_bids - 2.0)) * moments.sum_z3 as skew,
        ks_terms.ks
    from moments
    left join ks_terms on moments.tender_id = ks_terms.tender_id

),

-- comparable populations, from the narrowest to the widest; a lot is ranked within the
-- narrowest one holding at least var ps_min_population lots
populations as (

    select
        screens.*,
        count(*) over (partition by screens.category, screens.prefecture_code, screens.lot_year) as n_pop_1,
        count(*) over (partition by screens.category, screens.lot_year) as n_pop_2,
        count(*) over (partition by screens.category) as n_pop_3,
        count(*) over () as n_pop_4
        {%- for s, direction in screens.items() %}
        {%- for level, parts in levels %},
        case when {{ s }} is not null then
                percent_rank() over (partition by {{ parts }}, {{ s }} is null order by {{ s }} {{ direction }})
        end as {{ s }}_pr_{{ level }}
        {%- endfor %}
            {%- endfor %}
    from screens

),

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
        -- composite: weighted mean of the suspicion percentiles of the screens defined for
        -- this lot (weights: var ps_screen_weights; the variance screens weigh most)
        (
            {%- for s in screens %}
            {{ weights[s] }} * coalesce(case population_level
                when 1 then {{ s }}_pr_1 when 2 then {{ s }}_pr_2 when 3 then {{ s }}_pr_3 else {{ s }}_pr_4
            end, 0){% if not loop.last %} +{% endif %}
            {%- endfor %}
        ) / nullif(
            {%- for s in screens %}
            (case when {{ s }} is not null then {{ weights[s] }} else 0 end){% if not loop.last %} +{% endif %}
            {%- endfor %}
            , 0  -- noqa: LT04
        ) as screen_score
    from ranked

)

select * from final
