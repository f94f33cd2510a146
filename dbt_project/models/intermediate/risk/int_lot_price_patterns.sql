-- grain: one row per tender (lot) with at least 2 priced bids of different bidders: the
-- identical prices and regular progressions (《招标投标法实施条例》第40条第(四)项) found among its
-- bids, and how probable that many would be by chance.
-- Chance model (docs/evaluation.md, Method): bids are independent draws around the lot's mean
-- with its standard deviation sd, each rounded to its own grain g (the coarsest of 1, 2, 5 x 10^k
-- that the price is a multiple of, at least the precision delivered; and, where the lot has a
-- control price, the grain of the discount to it times the control price: 下浮率 quoted as
-- 1.5 % is a grain of 0.5 % of the control price; at most the lot's median grain, below; and, for
-- ties, where the feed carries no control price but every distinct price of the lot is a whole
-- multiple of one unit u = s x R, s a round discount step, beyond chance: R is the reference price
-- the bidders discounted, u the lot's grain; below).
-- Two bids tie with probability about
-- min(g_i, g_j) / (2 sqrt(pi) sd); one of three bids falls within one grain of the progression of
-- the other two with probability about min(g) x 2 sqrt(3) / (sqrt(pi) sd) (normal bids; every
-- subset of three, not only neighbours in price order). The expected counts lambda sum these
-- over all pairs / triples, times a calibration factor where the data's prices tie more than
-- the model says (below); the p-value is P(Poisson(lambda) >= observed). A lot is flagged at
-- p <= var a40_price_alpha (progressions: Bonferroni over the two kinds tested).
-- Auctions and listings are left out: there bids rise by a fixed increment (加价幅度) by design.
{{ config(
    pre_hook=["set local enable_nestloop = off", "set local work_mem = '256MB'"],
    post_hook=[
        "{{ table_index(this, 'tender', 'tender_id', unique=true) }}",
        "analyze {{ this }}",
    ],
) }}

with bids as (

    select * from {{ ref('int_bids_joined_to_lots') }}

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
    from bids
    where
        bidder_bid_seq = 1
        and bid_price > 0
        and coalesce(procurement_method, '') not in ('auction', 'listing')

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

-- the spread of a lot whose bids are all equal cannot be read from it: the typical relative
-- spread of the lots of the data (median sd / mean) times its mean price stands in
typical_spread as (

    select percentile_cont(0.5) within group (order by sd_price / mean_price) as cv
    from (
        select distinct on (tender_id)
            tender_id,
            sd_price,
            mean_price
        from ranked
    ) as l
    where sd_price > 0

),

-- expected numbers of chance ties and of chance progressions (of one kind) in the lot
lot_grains as (

    select
        ranked.tender_id,
        min(ranked.n) as n_bids,
        min(ranked.mean_price) as mean_price,
        coalesce(nullif(min(ranked.sd_price), 0), min(ranked.mean_price) * min(typical_spread.cv)) as sd_price,
        min(ranked.grain) as min_grain,
        max(ranked.grain) as max_grain,
        sum(ranked.grain::float8 * (ranked.n - ranked.grain_rank)) as pair_grains,
        sum(
            ranked.decimal_grain::float8 * (ranked.n - ranked.decimal_grain_rank)
            * (ranked.n - ranked.decimal_grain_rank - 1) / 2.0
        ) as triple_grains
    from ranked
    cross join typical_spread
    group by ranked.tender_id
    having min(ranked.n) >= 2

),

lots as (

    select
        lot_grains.*,
        lot_grains.pair_grains / (2 * sqrt(pi()) * nullif(lot_grains.sd_price, 0)) as ties_expected,
        lot_grains.triple_grains * 2 * sqrt(3.0) / (sqrt(pi()) * nullif(lot_grains.sd_price, 0)) as progressions_expected,
        reference_grids.reference_price,
        reference_grids.reference_step,
        reference_grids.reference_chance
    from lot_grains
    left join reference_grids on lot_grains.tender_id = reference_grids.tender_id

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
-- Enumerated only where chance could be ruled out (at most var a40_max_expected progressions
-- expected, at most 60 bids: beyond, a lot's triples are too many for any to be improbable)
progression_triples as (

    select
        a.tender_id,
        k.kind,
        array[a.bidder_id, b.bidder_id, c.bidder_id] as bidder_ids,
        array[a.bid_id, b.bid_id, c.bid_id] as bid_ids,
        array[a.price, b.price, c.price] as prices,
        least(a.bid_date, b.bid_date, c.bid_date) as bid_date
    from grained as a
    inner join lots
        on a.tender_id = lots.tender_id
        and lots.n_bids between 3 and 60
        and lots.progressions_expected <= {{ var('a40_max_expected', 1.0) }}
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

-- P(Poisson(lambda) >= observed), summed from the observed count up (terms past it fall fast
-- when lambda < observed; 1 when no more were seen than chance predicts)
tested as (

    select
        lots.*,
        coalesce(ties.n_tied_pairs, 0) as n_tied_pairs,
        ties.tie_group_list as tie_groups,
        ties.first_bid_date as ties_first_bid_date,
        coalesce(progressions.n_arithmetic, 0) as n_arithmetic,
        coalesce(progressions.n_geometric, 0) as n_geometric,
        progressions.triples as progression_triples,
        progressions.first_bid_date as progressions_first_bid_date
    from lots
    left join ties on lots.tender_id = ties.tender_id
    left join progressions on lots.tender_id = progressions.tender_id

),

-- Where the data's prices are not independent draws at their grain (bidders who quote the same
-- round discounts of a base price the feed does not carry: ties in most honest lots), the model
-- underestimates chance. Calibration: observed / expected over the lots of the data, leaving out
-- the 5 % most improbable (the patterns under suspicion must not calibrate themselves away), at
-- least 1, and only from var a40_calibration_min_lots (50) lots on (fewer say too little). A rare
-- pattern (a few planted or collusive lots) leaves the factor at 1.
uncalibrated as (

    select
        tested.*,
        tested.n_bids between 3 and 60
        and tested.progressions_expected <= {{ var('a40_max_expected', 1.0) }} as is_searched,
        {{ poisson_upper_tail('tested.ties_expected', 'tested.n_tied_pairs') }} as ties_p_model,
        {{ poisson_upper_tail('2 * tested.progressions_expected', 'tested.n_arithmetic + tested.n_geometric') }}
            as progressions_p_model
    from tested

),

calibration_ranks as (

    select
        n_tied_pairs,
        ties_expected,
        is_searched,
        n_arithmetic + n_geometric as n_progressions,
        progressions_expected,
        percent_rank() over (order by ties_p_model) as ties_rank,
        percent_rank() over (partition by is_searched order by progressions_p_model) as progressions_rank
    from uncalibrated

),

calibration as (

    select
        case when count(*) filter (where ties_rank > 0.05) >= {{ var('a40_calibration_min_lots', 50) }}
                then greatest(1.0, coalesce(
                        sum(n_tied_pairs) filter (where ties_rank > 0.05)
                        / nullif(sum(ties_expected) filter (where ties_rank > 0.05), 0), 1.0
                    ))
            else 1.0
        end as ties_factor,
        case when count(*) filter (where is_searched and progressions_rank > 0.05)
                >= {{ var('a40_calibration_min_lots', 50) }}
                then greatest(1.0, coalesce(
                        sum(n_progressions) filter (where is_searched and progressions_rank > 0.05)
                        / nullif(sum(2 * progressions_expected) filter (where is_searched and progressions_rank > 0.05), 0),
                        1.0
                    ))
            else 1.0
        end as progressions_factor
    from calibration_ranks

),

p_values as (

    select
        uncalibrated.*,
        calibration.ties_factor,
        calibration.progressions_factor,
        -- where the data tie or progress far more than any chance model of independent bids
        -- (factor above var a40_max_calibration, 100) the model cannot tell chance from intent
        -- lot by lot (the excess varies too much between lots): p = 1, the rule stays silent
        case when calibration.ties_factor <= {{ var('a40_max_calibration', 100) }}
                then
                    {{ poisson_upper_tail('uncalibrated.ties_expected * calibration.ties_factor', 'uncalibrated.n_tied_pairs') }}
            else 1.0
        end as ties_p_value,
        case when calibration.progressions_factor > {{ var('a40_max_calibration', 100) }} then 1.0 else least(1.0, 2 * least(
            {{ poisson_upper_tail(
                'uncalibrated.progressions_expected * calibration.progressions_factor', 'uncalibrated.n_arithmetic'
            ) }},
            {{ poisson_upper_tail(
                'uncalibrated.progressions_expected * calibration.progressions_factor', 'uncalibrated.n_geometric'
            ) }}
                ))
        end as progressions_p_value
    from uncalibrated
    cross join calibration

),

final as (

    select
        tested.tender_id,
        tested.n_bids,
        tested.sd_price,
        tested.min_grain,
        tested.max_grain,
        tested.reference_price,
        tested.reference_step,
        tested.reference_chance,
        tested.ties_expected,
        tested.ties_factor,
        tested.n_tied_pairs,
        tested.ties_p_value,
        tested.ties_p_value <= {{ var('a40_price_alpha', 0.001) }} as is_identical_improbable,
        tested.tie_groups,
        tested.ties_first_bid_date,
        tested.progressions_expected,
        tested.progressions_factor,
        tested.is_searched as is_progression_searched,
        tested.n_arithmetic,
        tested.n_geometric,
        tested.progressions_p_value,
        tested.progressions_p_value <= {{ var('a40_price_alpha', 0.001) }} as is_progression_improbable,
        tested.progression_triples,
        tested.progressions_first_bid_date
    from p_values as tested

)

select * from final
