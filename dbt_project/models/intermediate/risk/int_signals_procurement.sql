-- grain: one row per rule x tender (lot), for the procurement red flags (pf_*)
-- (nested loops off: the planner underestimates the self-joins of bids within a lot and would
-- take minutes on a province-year of bids)
{{ config(
    pre_hook=["set local enable_nestloop = off"],
) }}

with lots as (

    select * from {{ ref('int_lots_summarised') }}

),

bids as (

    select * from {{ ref('int_bids_joined_to_lots') }}

),

minimums as (

    select * from {{ ref('int_bid_period_minimums') }}

),

thresholds as (

    select * from {{ ref('mandatory_tender_thresholds') }}

),

-- newest bid of each bidder of a lot
latest_bids as (

    select * from bids
    where bidder_bid_seq = 1

),

all_but_winner as (

    select tender_id
    from lots
    where
        winner_id is not null
        and winner_bid_valid
        and n_bidders >= 3
        and n_valid_bids = 1

),

single_bid as (

    select
        lots.tender_id,
        lots.lot_date as signal_date,
        array_agg(latest_bids.bidder_id order by latest_bids.bidder_id) as entity_ids,
        jsonb_build_object(
            'n_bids', min(lots.n_bids), 'n_bidders', min(lots.n_bidders), 'n_valid_bids', min(lots.n_valid_bids),
            'valid_bid_id', min(latest_bids.bid_id), 'procurement_method', min(lots.procurement_method)
        ) as evidence
    from lots
    inner join latest_bids on lots.tender_id = latest_bids.tender_id and latest_bids.is_valid
    where
        lots.n_valid_bids = 1
        -- single-source, auction and listing take one bidder by design
        and lots.procurement_method not in ('single_source', 'auction', 'listing')
    group by lots.tender_id, lots.lot_date

),

all_but_winner_signals as (

    select
        lots.tender_id,
        lots.lot_date as signal_date,
        array[lots.winner_id] as entity_ids,
        jsonb_build_object(
            'winner_id', lots.winner_id,
            'n_bidders', lots.n_bidders,
            'rejected', jsonb_agg(
                jsonb_build_object('bid_id', b.bid_id, 'bidder_id', b.bidder_id, 'reason', b.rejection_reason)
                order by b.bid_id
            )
        ) as evidence
    from lots
    inner join latest_bids as b on lots.tender_id = b.tender_id and not b.is_valid
    where lots.tender_id in (select a.tender_id from all_but_winner as a)
    group by lots.tender_id, lots.lot_date, lots.winner_id, lots.n_bidders

),

lowest_rejected as (

    select
        lots.tender_id,
        lots.lot_date as signal_date,
        array_remove(array_agg(distinct b.bidder_id) || array[lots.winner_id], null) as entity_ids,
        jsonb_build_object(
            'lowest_bids', jsonb_agg(
                jsonb_build_object(
                    'bid_id', b.bid_id, 'bidder_id', b.bidder_id, 'bid_price', b.bid_price,
                    'reason', b.rejection_reason
                ) order by b.bid_id
            ),
            'winner_id', lots.winner_id,
            'winner_bid_price', lots.winner_bid_price
        ) as evidence
    from lots
    inner join (  -- noqa: ST05
        select
            latest_bids.*,
            min(latest_bids.bid_price) over (partition by latest_bids.tender_id) as lot_min_price
        from latest_bids
        where latest_bids.bid_price > 0
    ) as b on lots.tender_id = b.tender_id
    where
        lots.evaluation_method = 'lowest_price'
        and lots.n_bidders >= 2
        and b.bid_price = b.lot_min_price
        and not b.is_valid
    group by lots.tender_id, lots.lot_date, lots.winner_id, lots.winner_bid_price

),

short_period as (

    select
        lots.tender_id,
        lots.announced_on as signal_date,
        array_remove(array[lots.tenderer_id, lots.agency_id], null) as entity_ids,
        jsonb_build_object(
            'announced_at', lots.announced_at,
            'bid_deadline', lots.bid_deadline,
            'period', p.period,
            'minimum', minimums.min_period,
            'unit', minimums.period_unit,
            'procurement_method', lots.procurement_method,
            'legal_basis', minimums.legal_basis
        ) as evidence
    from lots
    inner join minimums
        on lots.category = minimums.category
        and lots.procurement_method = minimums.procurement_method
    cross join
        lateral (  -- noqa: ST05
            select case minimums.period_unit
                when 'workdays' then {{ workdays_between('lots.announced_on', 'lots.deadline_on') }}
                else lots.deadline_on - lots.announced_on
            end as period
        ) as p
    where p.period < minimums.min_period

),

near_control as (

    select
        tender_id,
        awarded_on as signal_date,
        array[winner_id] as entity_ids,
        jsonb_build_object(
            'award_price', award_price,
            'control_price', control_price,
            'gap_pct', round(100 * (control_price - award_price) / control_price, 4),
            'n_bidders', n_bidders,
            'threshold_pct', {{ var('award_near_control_pct') }}
        ) as evidence
    from lots
    where
        n_bidders >= 3
        and control_price > 0
        and award_price <= control_price
        and award_price >= control_price * (1 - {{ var('award_near_control_pct') }} / 100.0)

),

late_winner as (

    select
        tender_id,
        deadline_on as signal_date,
        array[winner_id] as entity_ids,
        jsonb_build_object(
            'winner_id', winner_id,
            'bid_id', winner_bid_id,
            'submitted_at', winner_submitted_at,
            'bid_deadline', bid_deadline,
            'minutes_late', round(extract(epoch from winner_submitted_at - bid_deadline) / 60.0, 1)
        ) as evidence
    from lots
    where winner_submitted_at > bid_deadline

),

-- split purchases (规避招标, 化整为零): lots of one purchaser (招标人) for the same kind of work
-- or goods, each below the amount that requires a public tender, none put to that tender,
-- announced within the window of the threshold's seed row (and in one year where the row
-- says so), together at or above it. The same kind: the same project (一项一码; 必须招标的工
-- 程项目规定第五条: what one project could tender together) or the same industry; a lot of an
-- unknown kind (industry 'other', no project code) only joins lots of its own project.
split_candidates as (

    select
        lots.tender_id,
        lots.tenderer_id,
        lots.category,
        lots.industry,
        {{ normalize_project_code('lots.project_code') }} as project_code,
        lots.procurement_method,
        lots.announced_on,
        coalesce(lots.control_price, lots.award_price) as amount,
        thresholds.threshold_yuan,
        thresholds.valid_from as threshold_valid_from,
        thresholds.window_days,
        thresholds.same_year
    from lots
    inner join thresholds
        on lots.category = thresholds.category
        and lots.announced_on >= thresholds.valid_from
        and (thresholds.valid_to is null or lots.announced_on < thresholds.valid_to)
    where
        lots.tenderer_id is not null
        and coalesce(lots.control_price, lots.award_price) > 0
        and coalesce(lots.control_price, lots.award_price) < thresholds.threshold_yuan
        and lots.procurement_method is not null
        and not lots.procurement_method = any(string_to_array(thresholds.tender_methods, ';'))

),

split_lots as (

    select
        a.tender_id,
        min(a.announced_on) as signal_date,
        array[min(a.tenderer_id)] as entity_ids,
        jsonb_build_object(
            'tenderer_id', min(a.tenderer_id),
            'amount', min(a.amount),
            'procurement_method', min(a.procurement_method),
            'related_lots', jsonb_agg(jsonb_build_object(
                'tender_id', b.tender_id, 'amount', b.amount, 'announced_on', b.announced_on,
                'procurement_method', b.procurement_method, 'project_code', b.project_code
            ) order by b.announced_on, b.tender_id),
            'total', min(a.amount) + sum(b.amount),
            'threshold', min(a.threshold_yuan),
            'threshold_valid_from', min(a.threshold_valid_from),
            'window_days', min(a.window_days)
        ) as evidence
    from split_candidates as a
    inner join split_candidates as b
        on a.tenderer_id = b.tenderer_id
        and a.category = b.category
        and a.threshold_valid_from = b.threshold_valid_from
        and a.tender_id <> b.tender_id
        and abs(a.announced_on - b.announced_on) <= a.window_days
        and (not a.same_year or extract(year from a.announced_on) = extract(year from b.announced_on))
        and (
            a.project_code = b.project_code
            or (a.industry = b.industry and a.industry <> 'other')
        )
    group by a.tender_id
    having min(a.amount) + sum(b.amount) >= min(a.threshold_yuan)

),

final as (

    {{ signals_union([
        {'rule_id': "'pf_single_bid'", 'from': 'single_bid'},
        {'rule_id': "'pf_all_but_winner_rejected'", 'from': 'all_but_winner_signals'},
        {'rule_id': "'pf_lowest_rejected'", 'from': 'lowest_rejected'},
        {'rule_id': "'pf_short_bid_period'", 'from': 'short_period'},
        {'rule_id': "'pf_award_near_control'", 'from': 'near_control'},
        {'rule_id': "'pf_late_winning_bid'", 'from': 'late_winner'},
        {'rule_id': "'pf_split_lots'", 'from': 'split_lots'},
    ]) }}

)

select * from final
