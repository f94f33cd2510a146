-- grain: one row per population (category x prefecture) x month end: the co-bidding null's
-- calibration to the market as it stood at that month end (lots dated up to it). A lot is judged
-- with the calibration of the last month end before its date (int_bidder_pairs_scored): computed
-- once when a month closes, one pass over the pairs of the history a month, not a night.
-- Why a calibration: where firms work in local markets the data do not name (a regional market
-- whose firms meet in most of their lots), far more pairs meet beyond chance than rings could
-- explain: a ring is a handful of firms, a local market is most of them. Under the model at most
-- var net_pair_max_p (0.1 %) of the pairs that could meet twice (both firms with >= 2 lots of the
-- population) recur by chance; var net_max_recurrent_share (0.5 %, five times that) is left for
-- rings. Where more recur, every expectation is multiplied by the smallest factor under which no
-- more than that share does, as a40 calibrates its chance counts: a crowded regional market is
-- expected to meet, a ring still stands out from it. Judged only where the share left for rings
-- holds at least var net_calibration_min_pairs (10) pairs, one ring of five: a small market
-- cannot tell its rings from its null (calibration 1, is_judged false). The pair at the boundary
-- (its joint lots and expectation) is kept: a lot later in the month grows it with its market
-- and judges with the factor that keeps that pair at the boundary (int_bidder_pairs_scored).
-- Incremental by month end (macros/changed_keys.sql): a month end is recomputed when any lot
-- dated up to it changed (its fingerprint is int_cobid_history_by_day's of its last day with
-- lots), so a back-filled day recomputes every month end since, and a night in date order none
-- but a newly closed month.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='month_end',
    on_schema_change='fail',
    pre_hook=["set local enable_nestloop = off", "set local work_mem = '256MB'"],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'population', 'category, prefecture_code, month_end', unique=true) }}",
    ],
) }}

with recursive lot_bidders as (

    select * from {{ ref('int_lot_bidders') }}
    where category is not null and prefecture_code is not null

),

-- the days with lots in a population, each with the fingerprint of the lots dated up to it
-- (int_cobid_history_by_day: summed per lot as they change, nothing of the history hashed again)
days as (

    select
        event_date as lot_date,
        lots_fingerprint
    from {{ ref('int_cobid_history_by_day') }}
    where n_lot_rows > 0

),

-- every month end from the first lot's on to the last complete month before the newest lot,
-- with the fingerprint of the history up to it (of its last day with lots), the vars and this
-- model's code
fingerprints as (

    select distinct on (month_ends.month_end)
        month_ends.month_end,
        md5(
            history_days.lots_fingerprint || '/{{ var('net_pair_max_p', 0.001) }}/{{ var('net_max_recurrent_share', 0.005) }}/'
            || '{{ var('net_calibration_min_pairs', 10) }}/{{ model_code_checksum() }}'
        ) as input_fingerprint
    from (
        select distinct (date_trunc('month', lot_date) - interval '1 day')::date as month_end
        from days
    ) as month_ends
    inner join days as history_days on month_ends.month_end >= history_days.lot_date
    order by month_ends.month_end asc, history_days.lot_date desc

),

changed as (

    {{ changed_keys('fingerprints', 'month_end') }}

),

month_ends as (

    select
        month_end,
        input_fingerprint,
        date_trunc('month', month_end)::date as month_start
    from changed
    where input_fingerprint is not null

),

-- the history needed: the lots up to the latest month end to judge (none on most nights);
-- identifiers in byte order (collation "C"): the windows below sort them, and a linguistic
-- collation costs most of the sort's time (equality, hence every result, is the same)
history as (

    select
        tender_id collate "C" as tender_id,  -- noqa: RF01, RF02, RF03
        bidder_id collate "C" as bidder_id,  -- noqa: RF01, RF02, RF03
        category collate "C" as category,  -- noqa: RF01, RF02, RF03
        prefecture_code collate "C" as prefecture_code,  -- noqa: RF01, RF02, RF03
        date_trunc('month', lot_date)::date as lot_month
    from lot_bidders
    where lot_date <= (select max(month_ends.month_end) from month_ends)

),

-- N: the population's lots up to each month end
population_sizes as (

    select
        history.category,
        history.prefecture_code,
        month_ends.month_end,
        count(distinct history.tender_id) as n_lots
    from history
    inner join month_ends on history.lot_month <= month_ends.month_start
    group by history.category, history.prefecture_code, month_ends.month_end

),

-- each firm's lots per population, cumulated by month; valid from its month to the next month
-- the firm bid in (next_month), so that each month end takes the count as it then stood
bidder_months as (

    select
        category,
        prefecture_code,
        bidder_id,
        lot_month,
        sum(count(*)) over bidder_history as n_lots_bid,
        lead(lot_month) over bidder_history as next_month
    from history
    group by category, prefecture_code, bidder_id, lot_month
    window bidder_history as (partition by category, prefecture_code, bidder_id order by lot_month)

),

bidders_as_of as (

    select
        bidder_months.category,
        bidder_months.prefecture_code,
        bidder_months.bidder_id,
        month_ends.month_end,
        bidder_months.n_lots_bid
    from bidder_months
    inner join month_ends
        on bidder_months.lot_month <= month_ends.month_start
        and (bidder_months.next_month is null or bidder_months.next_month > month_ends.month_start)

),

-- per population and month end, the pairs that could meet twice (both firms with >= 2 lots) and
-- how many of them may recur beyond chance (var net_max_recurrent_share)
recurrence_allowed as (

    select
        category,
        prefecture_code,
        month_end,
        floor(
            {{ var('net_max_recurrent_share', 0.005) }} * count(*) filter (where n_lots_bid >= 2)
            * (count(*) filter (where n_lots_bid >= 2) - 1) / 2
        )::bigint as n_allowed
    from bidders_as_of
    group by category, prefecture_code, month_end

),

-- every pair's joint lots per month, cumulated like the firms' counts; only pairs that met at
-- least twice by a month end can recur there
pair_months as (

    select
        a.category,
        a.prefecture_code,
        a.bidder_id as bidder_a,
        b.bidder_id as bidder_b,
        a.lot_month,
        count(*) as n_joint
    from history as a
    inner join history as b
        on a.tender_id = b.tender_id
        and a.bidder_id < b.bidder_id
    group by a.category, a.prefecture_code, a.bidder_id, b.bidder_id, a.lot_month

),

pair_histories as (

    select
        category,
        prefecture_code,
        bidder_a,
        bidder_b,
        lot_month,
        sum(n_joint) over pair_history as observed,
        lead(lot_month) over pair_history as next_month
    from pair_months
    window pair_history as (partition by category, prefecture_code, bidder_a, bidder_b order by lot_month)

),

pairs_as_of as (

    select
        pair_histories.category,
        pair_histories.prefecture_code,
        pair_histories.bidder_a,
        pair_histories.bidder_b,
        month_ends.month_end,
        pair_histories.observed
    from pair_histories
    inner join month_ends
        on pair_histories.lot_month <= month_ends.month_start
        and (pair_histories.next_month is null or pair_histories.next_month > month_ends.month_start)
    where pair_histories.observed >= 2

),

-- for each count of joint lots o >= 2 seen: the Poisson mean above which o or more joint lots
-- have chance > var net_pair_max_p (macros/poisson_tail.sql)
critical_means (observed, low, high, step) as (

    {{ critical_poisson_means('pairs_as_of', 'observed', var('net_pair_max_p', 0.001)) }}

),

-- each pair with its first firm's count (materialised: left to itself the planner joins the
-- firms of a population to each other first, every pair of firms, quadratic), then the second's
pairs_counted as materialized (

    select
        p.category,
        p.prefecture_code,
        p.month_end,
        p.bidder_a,
        p.bidder_b,
        p.observed,
        a.n_lots_bid as n_lots_a
    from pairs_as_of as p
    inner join bidders_as_of as a
        on p.category = a.category
        and p.prefecture_code = a.prefecture_code
        and p.month_end = a.month_end
        and p.bidder_a = a.bidder_id

),

-- each pair's factor on its expectation from which on it no longer recurs (the upper end of the
-- bisection: pairs tied at the critical factor do not recur once it is applied), ranked (ties
-- by the firms' ids, so that the boundary pair is the same in every run)
pair_factors as (

    select
        p.category,
        p.prefecture_code,
        p.month_end,
        p.observed,
        p.n_lots_a::float8 * b.n_lots_bid / sizes.n_lots as expected,
        critical_means.high * sizes.n_lots / (p.n_lots_a::float8 * b.n_lots_bid) as max_factor,
        row_number() over (
            partition by p.category, p.prefecture_code, p.month_end
            order by critical_means.high * sizes.n_lots / (p.n_lots_a::float8 * b.n_lots_bid) desc, p.bidder_a, p.bidder_b asc
        ) as factor_rank
    from pairs_counted as p
    inner join bidders_as_of as b
        on p.category = b.category
        and p.prefecture_code = b.prefecture_code
        and p.month_end = b.month_end
        and p.bidder_b = b.bidder_id
    inner join critical_means on p.observed = critical_means.observed and critical_means.step = 40
    inner join population_sizes as sizes
        on p.category = sizes.category
        and p.prefecture_code = sizes.prefecture_code
        and p.month_end = sizes.month_end

),

-- the population's factor: the (n_allowed + 1)-th largest of its pairs' factors, so that at most
-- n_allowed pairs recur once it is applied; 1 where the null fits or the population is too small
-- to judge (fewer than var net_calibration_min_pairs may recur); with the pair at that boundary
final as (

    select
        recurrence_allowed.category,
        recurrence_allowed.prefecture_code,
        recurrence_allowed.month_end,
        population_sizes.n_lots,
        recurrence_allowed.n_allowed,
        recurrence_allowed.n_allowed >= {{ var('net_calibration_min_pairs', 10) }} as is_judged,
        case when recurrence_allowed.n_allowed >= {{ var('net_calibration_min_pairs', 10) }}
                then greatest(1.0, coalesce(pair_factors.max_factor, 1.0))
            else 1.0
        end as calibration,
        -- the pair at the calibration's boundary: its joint lots and expectation at the month end
        -- (a lot later in the month grows them with its market: int_bidder_pairs_scored)
        pair_factors.observed as boundary_observed,
        pair_factors.expected as boundary_expected,
        month_ends.input_fingerprint
    from recurrence_allowed
    inner join month_ends on recurrence_allowed.month_end = month_ends.month_end
    inner join population_sizes
        on recurrence_allowed.category = population_sizes.category
        and recurrence_allowed.prefecture_code = population_sizes.prefecture_code
        and recurrence_allowed.month_end = population_sizes.month_end
    left join pair_factors
        on recurrence_allowed.category = pair_factors.category
        and recurrence_allowed.prefecture_code = pair_factors.prefecture_code
        and recurrence_allowed.month_end = pair_factors.month_end
        and pair_factors.factor_rank = recurrence_allowed.n_allowed + 1

)

select * from final
