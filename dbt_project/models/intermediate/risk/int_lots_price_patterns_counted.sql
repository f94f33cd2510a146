-- grain: one row per tender (lot) with a priced bid (not auctions or listings): what
-- int_lot_price_patterns judges, counted from the lot's own bids: their grains (and a reference
-- grid where one is inferred), the sums of grains behind the expected numbers of chance ties and
-- progressions, the ties and progressions found (null below 2 bids). The chance model is
-- int_lot_price_patterns's (its header). Incremental by what changed (macros/changed_keys.sql):
-- a night recomputes only the lots whose bids changed; the spread standing in for a lot whose
-- bids are all equal and the market calibration, which every new lot moves, are computed in
-- int_lot_price_patterns. A night fingerprints only the lots int_bids_joined_to_lots recomputed
-- since this model's last build (macros/change_log.sql).
{%- set salt = "'" ~ var('a40_price_alpha', 0.001) ~ "/" ~ var('a40_max_expected', 1.0) ~ "'" %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='tender_id',
    on_schema_change='fail',
    fingerprint_salt=salt,
    pre_hook=["set local enable_nestloop = off", "set local work_mem = '256MB'"],
    post_hook=[
        "{{ lasting_index(this, 'tender', 'tender_id', unique=true) }}",
        "analyze {{ this }}",
    ],
) }}

{%- set candidates = changed_keys_since_last_build(['int_bids_joined_to_lots']) %}

with all_bids as (

    select * from {{ ref('int_bids_joined_to_lots') }}

),

-- the bids of the lots that may have changed (on a night, those int_bids_joined_to_lots
-- recomputed since this model's last build)
bids as (

    select *
    from all_bids
    {{ where_candidates(candidates) }}

),

lot_bids as (

    select
        tender_id,
        bid_id,
        bidder_id,
        bid_date,
        bid_price,
        control_price
    from bids
    where
        bidder_bid_seq = 1
        and bid_price > 0
        and coalesce(procurement_method, '') not in ('auction', 'listing')

),

-- a lot's counts depend on its bids and on the vars that bound the searches
fingerprints as (

    {{ input_fingerprints(
        'lot_bids', 'tender_id', ['bid_id', 'bidder_id', 'bid_date', 'bid_price', 'control_price'], salt=salt
    ) }}

),

changed as (

    {{ changed_keys('fingerprints', 'tender_id', candidates) }}

),

-- {1, 2, 5} x 10^k: the grains a price (k >= -4) or a discount rate (k >= -7) can be rounded to
grain_candidates as (

    select
        k.k,
        f.factor,
        f.factor * power(10::numeric, k.k) as grain
    from generate_series(-7, 9) as k (k)
    cross join (values (1), (2), (5)) as f (factor)

),

priced as (

    select
        tender_id,
        bid_id,
        bidder_id,
        bid_date,
        bid_price::numeric as price,
        case when control_price > 0 then control_price::numeric end as control_price
    from lot_bids
    where tender_id in (select changed.tender_id from changed)

),

-- The coarsest candidate a number is a multiple of, read from its digits instead of trying all
-- 51 (3.6 s of numeric remainders at a province-year): 10^k with k = minus its last decimal
-- place, or for a whole number its trailing zeros; no coarser power of ten divides it, so
-- neither does any coarser candidate (2 and 5 x 10^(k+1) are multiples of 10^(k+1)), and the
-- candidate is 5, 2 or 1 x 10^k. The price's grain is at least 0.0001 (k >= -4, at most 9);
-- the discount's at most 0.1 (k <= -2, or 0.1 itself), after rounding it to 7 places.
digits as (

    select
        priced.*,
        case when priced.price % 0.0001 = 0 then
                case when min_scale(priced.price) > 0 then -min_scale(priced.price)
                    else least(9, length(trim_scale(priced.price)::text) - length(rtrim(trim_scale(priced.price)::text, '0')))
                end
        end as price_k,
        round((priced.control_price - priced.price) / priced.control_price, 7) as discount
    from priced

),

exponents as (

    select
        digits.*,
        case
            when digits.price % (5 * power(10::numeric, digits.price_k)) = 0 then 5
            when digits.price % (2 * power(10::numeric, digits.price_k)) = 0 then 2
            else 1
        end as price_factor,
        case when digits.discount % 0.1 = 0 then -1 else -min_scale(digits.discount) end as discount_k
    from digits

),

grained_each as (

    select
        exponents.tender_id,
        exponents.bid_id,
        exponents.bidder_id,
        exponents.bid_date,
        exponents.price,
        exponents.control_price,
        greatest(
            power(10::numeric, -min_scale(exponents.price)),
            price_grain.grain,
            discount_grain.grain * exponents.control_price
        ) as grain
    from exponents
    left join grain_candidates as price_grain
        on exponents.price_k = price_grain.k
        and exponents.price_factor = price_grain.factor
    left join grain_candidates as discount_grain
        on exponents.discount_k = discount_grain.k
        and case
            when exponents.discount_k = -1 then 1
            when exponents.discount % (5 * power(10::numeric, exponents.discount_k)) = 0 then 5
            when exponents.discount % (2 * power(10::numeric, exponents.discount_k)) = 0 then 2
            else 1
        end = discount_grain.factor

),

-- a bid's grain is at most the lot's median grain: bidders of one lot round alike, and one round
-- price among unrounded ones (a copied price that happens to end in 00) is not a rounding habit
lot_median_grains as (

    select
        tender_id,
        percentile_cont(0.5) within group (order by grain) as median_grain
    from grained_each
    group by tender_id

),

-- Reference grids. Bidders who quote a discount (下浮率) in round steps s of a reference price R
-- the feed does not carry (a tariff, an engineer's estimate) deliver prices that are whole
-- multiples of u = s R: the lot's real grain, which its decimals do not show. Searched where no
-- bid of the lot has a control price and it has at least 3 distinct prices, for s = 5, 2, 1, 0.5,
-- 0.2, 0.1 % and R with every price within 0.5-1.5 R: candidates u = lowest price / m,
-- m = 0.5/s .. 1.5/s (and highest price <= 1.5 R); a candidate fits when every distinct price
-- is within the lot's median grain t of a multiple of u. By coincidence, each of the other
-- d - 1 distinct prices lies that near a multiple with probability 2 t / u = c m (c = 2 t / lowest
-- price); over a step's candidates the chance of some fit is at most sum_m (c m)^(d-1) ~
-- c^(d-1) ((m_high + 1/2)^d - (m_low - 1/2)^d) / d. A step is tried only where that chance is at most
-- var a40_price_alpha / 6 (Bonferroni over the six steps: a grid is accepted on the evidence the
-- rules themselves demand); the coarsest step that fits wins (within it the largest unit).
-- The grid judges ties only. Progressions keep the grain of the decimals: any arithmetic
-- progression lies on a grid of its own step, so a ring's p, p + s, p + 2s fits one whenever p / s
-- is near a ratio of small whole numbers (half of such lots priced to the yuan, 1 % to the fen, in
-- a simulation of the generator's progressions without a control price): a grid inferred from
-- the prices cannot clear the pattern it is made of. Equal prices add no distinct price to a fit.
reference_steps as (

    select v.step::numeric as step
    from (values (0.05), (0.02), (0.01), (0.005), (0.002), (0.001)) as v (step)

),

lot_distinct_prices as (

    select
        grained_each.tender_id,
        count(distinct grained_each.price) as n_distinct,
        min(grained_each.price) as low_price,
        max(grained_each.price) as high_price,
        (array_agg(distinct grained_each.price order by grained_each.price))[2] as second_price,
        min(lot_median_grains.median_grain)::numeric as tolerance
    from grained_each
    inner join lot_median_grains on grained_each.tender_id = lot_median_grains.tender_id
    group by grained_each.tender_id
    having count(distinct grained_each.price) >= 3 and bool_and(grained_each.control_price is null)

),

reference_levels as (

    select
        lot_distinct_prices.*,
        reference_steps.step,
        ceil(0.5 / reference_steps.step) as m_low,
        floor(1.5 / reference_steps.step * lot_distinct_prices.low_price / lot_distinct_prices.high_price) as m_high,
        (2 * lot_distinct_prices.tolerance / lot_distinct_prices.low_price)::float8 as c
    from lot_distinct_prices
    cross join reference_steps

),

reference_chances as (

    select
        reference_levels.*,
        (reference_levels.n_distinct - 1) * ln(reference_levels.c)
        + reference_levels.n_distinct * ln(reference_levels.m_high + 0.5)
        + ln(1 - power(((reference_levels.m_low - 0.5) / (reference_levels.m_high + 0.5))::float8, reference_levels.n_distinct))
        - ln(reference_levels.n_distinct) as ln_chance
    from reference_levels
    where reference_levels.m_high >= reference_levels.m_low and reference_levels.c * reference_levels.m_high < 1

),

-- candidate units that already fit the two lowest prices, then every distinct price
reference_candidates as (

    select
        reference_chances.tender_id,
        reference_chances.step,
        reference_chances.tolerance,
        reference_chances.ln_chance,
        reference_chances.low_price / m.m as unit
    from reference_chances
    cross join lateral generate_series(reference_chances.m_low::integer, reference_chances.m_high::integer) as m (m)
    where
        reference_chances.ln_chance <= ln({{ var('a40_price_alpha', 0.001) }} / 6.0)
        and abs(
            reference_chances.second_price - reference_chances.low_price / m.m
            * round(reference_chances.second_price * m.m / reference_chances.low_price)
        )
        <= reference_chances.tolerance

),

reference_fits as (

    select
        reference_candidates.tender_id,
        reference_candidates.step,
        reference_candidates.unit,
        reference_candidates.ln_chance
    from reference_candidates
    inner join grained_each on reference_candidates.tender_id = grained_each.tender_id
    group by
        reference_candidates.tender_id, reference_candidates.step, reference_candidates.unit,
        reference_candidates.ln_chance, reference_candidates.tolerance
    having bool_and(
            abs(grained_each.price - reference_candidates.unit * round(grained_each.price / reference_candidates.unit))
            <= reference_candidates.tolerance
        )

),

reference_grids as (

    select distinct on (tender_id)
        tender_id,
        step as reference_step,
        unit as reference_unit,
        round(unit / step, 2)::float8 as reference_price,
        exp(ln_chance) as reference_chance
    from reference_fits
    order by tender_id asc, step desc, unit desc

),

grained as (

    select
        grained_each.tender_id,
        grained_each.bid_id,
        grained_each.bidder_id,
        grained_each.bid_date,
        grained_each.price,
        grained_each.price::float8 as price_f,  -- for cheap bounds
        grained_each.control_price,
        least(grained_each.grain, lot_median_grains.median_grain::numeric) as decimal_grain,
        greatest(
            least(grained_each.grain, lot_median_grains.median_grain::numeric), reference_grids.reference_unit
        ) as grain
    from grained_each
    inner join lot_median_grains on grained_each.tender_id = lot_median_grains.tender_id
    left join reference_grids on grained_each.tender_id = reference_grids.tender_id

),

ranked as (

    select
        grained.*,
        count(*) over w_lot as n,
        avg(grained.price::float8) over w_lot as mean_price,
        stddev_samp(grained.price::float8) over w_lot as sd_price,
        -- rank by grain, finest first: bid i is the finest of the pairs / triples it makes with
        -- the bids ranked after it
        row_number() over (partition by grained.tender_id order by grained.grain, grained.bid_id) as grain_rank,
        row_number() over (
            partition by grained.tender_id order by grained.decimal_grain, grained.bid_id
        ) as decimal_grain_rank
    from grained
    window w_lot as (partition by tender_id)

),

-- the sums behind the expected numbers of chance ties and of chance progressions (of one kind):
-- int_lot_price_patterns divides them by the lot's spread
lot_grains as (

    select
        tender_id,
        min(n) as n_bids,
        min(mean_price) as mean_price,
        min(sd_price) as sd_price,
        min(grain) as min_grain,
        max(grain) as max_grain,
        sum(grain::float8 * (n - grain_rank)) as pair_grains,
        sum(
            decimal_grain::float8 * (n - decimal_grain_rank)
            * (n - decimal_grain_rank - 1) / 2.0
        ) as triple_grains
    from ranked
    group by tender_id
    having min(n) >= 2

),

-- the lots whose triples are enumerated: int_lot_price_patterns's searched lots (at most var
-- a40_max_expected progressions expected, 3 to 60 bids) and those whose bids are all equal
-- (their spread is the market's; they hold no three distinct prices); it keeps the searched
lots as (

    select lot_grains.tender_id
    from lot_grains
    where
        lot_grains.n_bids between 3 and 60
        and (
            lot_grains.sd_price = 0
            or lot_grains.triple_grains * 2 * sqrt(3.0) / (sqrt(pi()) * nullif(lot_grains.sd_price, 0))
            <= {{ var('a40_max_expected', 1.0) }}
        )

),

tie_pairs as (

    select
        a.tender_id,
        a.price,
        a.grain,
        count(*) as n_pairs
    from grained as a
    inner join grained as b
        on a.tender_id = b.tender_id
        and a.price = b.price
        and a.bid_id < b.bid_id
    group by a.tender_id, a.price, a.grain

),

tie_groups as (

    select
        tie_pairs.tender_id,
        tie_pairs.price,
        tie_pairs.grain,
        tie_pairs.n_pairs,
        min(grained.bid_date) as first_bid_date,
        array_agg(grained.bidder_id order by grained.bidder_id) as bidder_ids,
        array_agg(grained.bid_id order by grained.bid_id) as bid_ids
    from tie_pairs
    inner join grained on tie_pairs.tender_id = grained.tender_id and tie_pairs.price = grained.price
    group by tie_pairs.tender_id, tie_pairs.price, tie_pairs.grain, tie_pairs.n_pairs

),

ties as (

    select
        tie_groups.tender_id,
        sum(tie_groups.n_pairs) as n_tied_pairs,
        min(tie_groups.first_bid_date) as first_bid_date,
        -- the grain says what chance was judged on; the reference price where one was inferred
        jsonb_agg(
            jsonb_strip_nulls(jsonb_build_object(
                'value', tie_groups.price, 'grain', tie_groups.grain, 'reference_price',
                reference_grids.reference_price, 'bidder_ids', to_jsonb(tie_groups.bidder_ids),
                'bid_ids', to_jsonb(tie_groups.bid_ids)
            )) order by tie_groups.price
        ) as tie_group_list
    from tie_groups
    left join reference_grids on tie_groups.tender_id = reference_grids.tender_id
    group by tie_groups.tender_id

),

-- every three prices p1 < p2 < p3 of the lot whose middle one is within one grain (the finest of
-- the three) of the arithmetic (p1 + p3) / 2 or the geometric sqrt(p1 p3) mean of the others.
-- Enumerated only where chance could be ruled out (lots, above: beyond 60 bids or 1 expected,
-- a lot's triples are too many for any to be improbable)
progression_triples as (

    select
        a.tender_id,
        k.kind,
        array[a.bidder_id, b.bidder_id, c.bidder_id] as bidder_ids,
        array[a.bid_id, b.bid_id, c.bid_id] as bid_ids,
        array[a.price, b.price, c.price] as prices,
        least(a.bid_date, b.bid_date, c.bid_date) as bid_date
    from grained as a
    inner join lots on a.tender_id = lots.tender_id
    inner join grained as c on a.tender_id = c.tender_id and a.price_f <= c.price_f
    inner join grained as b
        on a.tender_id = b.tender_id
        -- a cheap bound first (float, with a margin): either kind puts the middle price within
        -- one grain of [sqrt(p1 p3), (p1 + p3) / 2]; 3 million triples at a province-year
        and sqrt(a.price_f * c.price_f) - a.decimal_grain::float8 - 1e-9 * c.price_f <= b.price_f
        and (a.price_f + c.price_f) / 2 + a.decimal_grain::float8 + 1e-9 * c.price_f >= b.price_f
        and a.price < b.price
        and c.price > b.price
    cross join
        lateral (
            values
            ('arithmetic', abs(a.price + c.price - 2 * b.price)),
            ('geometric', abs(a.price * c.price - b.price * b.price) / b.price)
        ) as k (kind, residual)
    where k.residual <= least(a.decimal_grain, b.decimal_grain, c.decimal_grain)

),

progressions as (

    select
        tender_id,
        count(*) filter (where kind = 'arithmetic') as n_arithmetic,
        count(*) filter (where kind = 'geometric') as n_geometric,
        min(bid_date) as first_bid_date,
        jsonb_agg(
            jsonb_build_object(
                'kind', kind, 'step', case kind when 'arithmetic' then prices[2] - prices[1]
                    else round(prices[2] / prices[1], 6)
                end,
                'prices', to_jsonb(prices), 'bidder_ids', to_jsonb(bidder_ids), 'bid_ids', to_jsonb(bid_ids)
            ) order by prices, kind
        ) as triples
    from progression_triples
    group by tender_id

),

final as (

    select
        changed.tender_id,
        changed.input_fingerprint,
        lot_grains.n_bids,
        lot_grains.mean_price,
        lot_grains.sd_price as observed_sd_price,
        lot_grains.min_grain,
        lot_grains.max_grain,
        lot_grains.pair_grains,
        lot_grains.triple_grains,
        reference_grids.reference_price,
        reference_grids.reference_step,
        reference_grids.reference_chance,
        coalesce(ties.n_tied_pairs, 0) as n_tied_pairs,
        ties.tie_group_list as tie_groups,
        ties.first_bid_date as ties_first_bid_date,
        coalesce(progressions.n_arithmetic, 0) as n_arithmetic,
        coalesce(progressions.n_geometric, 0) as n_geometric,
        progressions.triples as progression_triples,
        progressions.first_bid_date as progressions_first_bid_date
    from changed
    left join lot_grains on changed.tender_id = lot_grains.tender_id
    left join reference_grids on changed.tender_id = reference_grids.tender_id
    left join ties on changed.tender_id = ties.tender_id
    left join progressions on changed.tender_id = progressions.tender_id

)

select * from final
