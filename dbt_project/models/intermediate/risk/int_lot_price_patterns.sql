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
-- The lot's grains, sums and the ties and progressions found are counted, incrementally, in
-- int_lots_price_patterns_counted; here: the expected numbers, the calibration, the p-values.
-- Built whole every night (the calibration and the typical spread are the market's), though a
-- night changes few rows while the factors stay put: the scale-1 Dec 31 night, 57 of 15,738 (of the
-- 58 lots int_lots_price_patterns_counted recomputed). Statistics only for the columns readers
-- select by (int_lots_bid_collusion_signals).
{{ config(
    post_hook=[
        "{{ table_index(this, 'tender', 'tender_id', unique=true) }}",
        "analyze {{ this }} (tender_id, is_identical_improbable, is_progression_improbable)",
    ],
) }}

with counted as (

    select * from {{ ref('int_lots_price_patterns_counted') }}
    where n_bids is not null

),

-- the spread of a lot whose bids are all equal cannot be read from it: the typical relative
-- spread of the lots of the data (median sd / mean) times its mean price stands in
typical_spread as (

    select percentile_cont(0.5) within group (order by observed_sd_price / mean_price) as cv
    from counted
    where observed_sd_price > 0

),

lot_spreads as (

    select
        counted.*,
        coalesce(nullif(counted.observed_sd_price, 0), counted.mean_price * typical_spread.cv) as sd_price
    from counted
    cross join typical_spread

),

-- expected numbers of chance ties and of chance progressions (of one kind) in the lot
lots as (

    select
        lot_spreads.*,
        lot_spreads.pair_grains / (2 * sqrt(pi()) * nullif(lot_spreads.sd_price, 0)) as ties_expected,
        lot_spreads.triple_grains * 2 * sqrt(3.0) / (sqrt(pi()) * nullif(lot_spreads.sd_price, 0)) as progressions_expected
    from lot_spreads

),

searched as (

    select
        lots.*,
        lots.n_bids between 3 and 60
        and lots.progressions_expected <= {{ var('a40_max_expected', 1.0) }} as is_searched
    from lots

),

-- P(Poisson(lambda) >= observed), summed from the observed count up (terms past it fall fast
-- when lambda < observed; 1 when no more were seen than chance predicts); progressions count
-- in searched lots only
tested as (

    select
        searched.tender_id,
        searched.n_bids,
        searched.sd_price,
        searched.min_grain,
        searched.max_grain,
        searched.reference_price,
        searched.reference_step,
        searched.reference_chance,
        searched.ties_expected,
        searched.progressions_expected,
        searched.is_searched,
        coalesce(searched.n_tied_pairs, 0) as n_tied_pairs,
        searched.tie_groups,
        searched.ties_first_bid_date,
        case when searched.is_searched then coalesce(searched.n_arithmetic, 0) else 0 end as n_arithmetic,
        case when searched.is_searched then coalesce(searched.n_geometric, 0) else 0 end as n_geometric,
        case when searched.is_searched then searched.progression_triples end as progression_triples,
        case when searched.is_searched then searched.progressions_first_bid_date end as progressions_first_bid_date
    from searched

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
