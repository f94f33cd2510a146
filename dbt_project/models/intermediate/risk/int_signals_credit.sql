-- grain: one row per rule x tender (lot), for the credit and tax rules (cr_*)
-- (nested loops off: the planner underestimates the self-joins of bids within a lot and would
-- take minutes on a province-year of bids)
{{ config(
    pre_hook=["set local enable_nestloop = off"],
) }}

with bids as (

    select * from {{ ref('int_bids_joined_to_lots') }}

),

lots as (

    select * from {{ ref('int_lots_summarised') }}

),

credit_intervals as (

    select * from {{ ref('int_credit_record_intervals') }}

),

taxpayer_intervals as (

    select * from {{ ref('int_taxpayer_status_intervals') }}

),

-- the taxpayer version in force at the award, not the newest (a winner that became a
-- 非正常户 after its award is not flagged for it)
taxpayers_at_award as (

    select
        lots.tender_id,
        taxpayers.entity_id,
        taxpayers.taxpayer_status,
        taxpayers.credit_rating,
        taxpayers.rating_year,
        taxpayers.tax_paid_last_year,
        taxpayers.insured_employees,
        taxpayers.is_tax_untrustworthy,
        taxpayers.valid_from
    from lots
    inner join taxpayer_intervals as taxpayers
        on lots.winner_id = taxpayers.entity_id
        and taxpayers.status_during @> lots.awarded_at

),

entities as (

    select * from {{ ref('stg_trading_centre__entities') }}

),

contracts as (

    select * from {{ ref('stg_trading_centre__contracts') }}

),

-- 严重失信主体名单 entries whose measures include a bidding ban, as validity intervals
-- [effective_from, least(effective_until, revoked_on)) (int_credit_record_intervals)
bid_bans as (

    select
        record_id,
        entity_id,
        decision_no,
        authority,
        valid_from,
        valid_to,
        valid_during
    from credit_intervals
    where is_bid_ban_listing and not is_void

),

banned_bids as (

    select
        bids.tender_id,
        bids.bidder_id,
        bool_or(bids.is_winner) as won,
        min(bids.bid_date) as bid_date,
        jsonb_agg(distinct jsonb_build_object(
            'entity_id', bids.bidder_id,
            'record_id', bid_bans.record_id,
            'decision_no', bid_bans.decision_no,
            'authority', bid_bans.authority,
            'valid_from', bid_bans.valid_from,
            'valid_to', bid_bans.valid_to,
            'bid_date', bids.bid_date,
            'won', bids.is_winner
        )) as items
    from bids
    inner join bid_bans
        on bids.bidder_id = bid_bans.entity_id
        and bid_bans.valid_during @> bids.bid_date
    group by bids.tender_id, bids.bidder_id

),

banned_signals as (

    select
        tender_id,
        min(bid_date) as signal_date,
        array_agg(bidder_id order by bidder_id) as entity_ids,
        -- a banned bidder that won weighs more than one that only bid
        case when bool_or(won) then 1.0 else 0.8 end as score,
        jsonb_build_object('banned_bidders', jsonb_agg(items order by bidder_id), 'won', bool_or(won)) as evidence
    from banned_bids
    group by tender_id

),

tax_signals as (

    select
        lots.tender_id,
        lots.awarded_on as signal_date,
        array[lots.winner_id] as entity_ids,
        1.0 as score,
        jsonb_build_object(
            'winner_id', lots.winner_id,
            'awarded_at', lots.awarded_at,
            'taxpayer_status', taxpayers.taxpayer_status,
            'credit_rating', taxpayers.credit_rating,
            'rating_year', taxpayers.rating_year,
            'status_since', taxpayers.valid_from
        ) as evidence
    from lots
    inner join taxpayers_at_award as taxpayers on lots.tender_id = taxpayers.tender_id
    where taxpayers.is_tax_untrustworthy

),

contract_amounts as (

    select
        tender_id,
        sum(contract_amount) as contract_amount
    from contracts
    group by tender_id

),

shell_signals as (

    select
        lots.tender_id,
        lots.awarded_on as signal_date,
        array[lots.winner_id] as entity_ids,
        1.0 as score,
        jsonb_build_object(
            'winner_id', lots.winner_id,
            'established_on', entities.established_on,
            'age_days', lots.awarded_on - entities.established_on,
            'insured_employees', taxpayers.insured_employees,
            'tax_paid_last_year', taxpayers.tax_paid_last_year,
            'amount', coalesce(contract_amounts.contract_amount, lots.award_price),
            'registered_capital', entities.registered_capital
        ) as evidence
    from lots
    inner join entities on lots.winner_id = entities.entity_id
    inner join taxpayers_at_award as taxpayers on lots.tender_id = taxpayers.tender_id
    left join contract_amounts on lots.tender_id = contract_amounts.tender_id
    where
        lots.awarded_on - entities.established_on < {{ var('shell_max_age_days', 365) }}
        and taxpayers.insured_employees = 0
        and coalesce(taxpayers.tax_paid_last_year, 0)
        < {{ var('shell_tax_ratio_pct', 0.1) }} / 100.0 * coalesce(contract_amounts.contract_amount, lots.award_price)

),

final as (

    {{ signals_union([
        {'rule_id': "'cr_banned_bidder'", 'from': 'banned_signals', 'score': 'score'},
        {'rule_id': "'cr_tax_abnormal_winner'", 'from': 'tax_signals', 'score': 'score'},
        {'rule_id': "'cr_shell_winner'", 'from': 'shell_signals', 'score': 'score'},
    ]) }}

)

select * from final
