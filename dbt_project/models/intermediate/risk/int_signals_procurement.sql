-- grain: one row per rule x tender (lot), for the procurement red flags (pf_*), and one
-- placeholder row (rule_id null) for a lot with none: its fingerprint must be kept somewhere, or
-- the lot would be recomputed every night. Readers take `where rule_id is not null`.
-- Incremental by what changed (macros/changed_keys.sql): a lot's flags depend on its own row of
-- int_lots_summarised, its latest bids, the minimum periods and the workday calendar, and
-- (pf_split_lots, judged against the other lots of its owner) on its signal in
-- int_lots_split_purchase_signals, which this model takes as it is. A lot's fingerprint is
-- "context/lot": context, the md5 of what every lot shares (int_bid_period_minimums, the
-- calendar's days that are not the Monday-Friday rule and its first day, the lots dated past its
-- end); lot, the md5 of its row, latest bids and split signal (the columns read) and var
-- award_near_control_pct. A night compares only the lots int_lots_summarised,
-- int_bids_joined_to_lots or int_lots_split_purchase_signals logged since this model's last
-- build (macros/change_log.sql; the split model logs the group mates it re-judged); every lot
-- when a parent has no usable log or the context differs from the one the table's fingerprints
-- carry (every row carries the same: a new context replaces every lot).
-- (nested loops off: the planner underestimates the self-joins of bids within a lot and would
-- take minutes on a province-year of bids)
{%- set salt = "'" ~ var('award_near_control_pct') ~ "'" %}
{#- pre_hook: a table built before the model was incremental gains the column (null), so its
    first incremental run recomputes every lot, as a full refresh would (no deploy step); the lots
    past the calendar's end are looked up by their last date on int_lots_summarised, which keeps
    its table between nights (as int_bids_joined_to_lots indexes the staging bids it reads by
    lot) -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='tender_id',
    on_schema_change='fail',
    fingerprint_salt=salt,
    pre_hook=[
        "alter table if exists {{ this }} add column if not exists input_fingerprint text",
        "set local enable_nestloop = off",
        "create index if not exists int_lots_summarised_last_date_idx on {{ ref('int_lots_summarised').schema }}.int_lots_summarised (greatest(announced_on, deadline_on))",
    ],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'tender', 'tender_id') }}",
    ],
) }}

{#- What every lot's flags share, as one md5 (sums of 64-bit row hashes: no order). The calendar
    counts working days by workday_seq, whose differences follow from the days that break the
    Monday-Friday rule; a period is null when a date lies outside the calendar, which grows by a
    day each night at its end: the lots past it are in the context, so that the night the
    calendar reaches one of them every lot is compared. -#}
{%- set context_sql -%}
select md5(concat_ws(
    '/',
    (
        select count(*) || ':' || coalesce(sum(hashtextextended(
            row(category, procurement_method, min_period, period_unit, legal_basis)::text, 0
        )), 0)
        from {{ ref('int_bid_period_minimums') }}
    ),
    (
        select min(date_day) || ':' || coalesce(sum(hashtextextended(row(date_day, is_workday)::text, 0))
            filter (where is_workday <> (iso_day_of_week < 6)), 0)
        from {{ ref('int_workdays') }}
    ),
    (
        select count(*) || ':' || coalesce(sum(hashtextextended(tender_id, 0)), 0)
        from {{ ref('int_lots_summarised') }}
        where greatest(announced_on, deadline_on) > (select max(date_day) from {{ ref('int_workdays') }})
    )
))
{%- endset %}

{%- set logged = changed_keys_since_last_build_in_context(
    ['int_lots_summarised', 'int_bids_joined_to_lots', 'int_lots_split_purchase_signals'], context_sql
) %}
{%- set candidates = 'select candidate_keys.key_value from candidate_keys' if logged is not none else none %}

-- not materialized: read (on a night, for the lots that may have changed) by key
with lots as not materialized (

    select * from {{ ref('int_lots_summarised') }}

),

bids as not materialized (

    select * from {{ ref('int_bids_joined_to_lots') }}

),

split_purchases as not materialized (

    select * from {{ ref('int_lots_split_purchase_signals') }}

),

minimums as (

    select * from {{ ref('int_bid_period_minimums') }}

),

context as (

    {{ context_sql }} as fingerprint

),

-- newest bid of each bidder of a lot
latest_bids as not materialized (

    select * from bids
    where bidder_bid_seq = 1

),
{%- if logged is not none %}

-- a night: the lots the parents logged since this model's last build (the split model logs the
-- lots whose signal it recomputed: the group mates of a lot it was given among them)
candidate_keys as materialized (

    select unnest(array({{ logged }})) as key_value

),
{%- endif %}

candidate_lots as (

    select * from lots
    {{ where_candidates(candidates) }}

),

candidate_bids as (

    select * from latest_bids
    {{ where_candidates(candidates) }}

),

candidate_splits as (

    select * from split_purchases
    {{ where_candidates(candidates) }}

),

-- the lots' split purchases (pf_split_lots), as int_lots_split_purchase_signals judged them
-- against the other lots of their owners (its placeholder rows left out)
split_signals as (

    select * from candidate_splits
    where rule_id is not null

),

-- a lot's input rows: its row, its latest bids and its split signal (the columns read below)
lot_inputs as (

    select
        tender_id,
        'lot' as input_kind,
        row(
            lot_date, n_bids, n_bidders, n_valid_bids, procurement_method, evaluation_method, category, industry,
            project_code, tenderer_id, agency_id, winner_id, winner_bid_valid, winner_bid_id, winner_bid_price,
            winner_submitted_at, award_price, awarded_on, control_price, announced_at, announced_on, bid_deadline,
            deadline_on
        )::text as input_row
    from candidate_lots

    union all

    select
        tender_id,
        'bid' as input_kind,
        row(bid_id, bidder_id, is_valid, rejection_reason, bid_price)::text as input_row
    from candidate_bids

    union all

    select
        tender_id,
        'split' as input_kind,
        row(
            rule_id, subject_type, subject_id, entity_ids, expert_ids, signal_date, score, evidence, department_code
        )::text as input_row
    from split_signals

),

-- each fingerprint prefixed with the context
lot_fingerprints as (

    {{ input_fingerprints(
        'lot_inputs', 'tender_id', ['input_kind', 'input_row'], salt=salt, context='select context.fingerprint from context'
    ) }}

),

-- the lots (those with a row)
fingerprints as (

    select *
    from lot_fingerprints
    where tender_id in (select candidate_lots.tender_id from candidate_lots)

),

changed as (

    {{ changed_keys('fingerprints', 'tender_id', candidates) }}

),

-- the lots judged, and their latest bids
judged_lots as (

    select candidate_lots.*
    from candidate_lots
    where candidate_lots.tender_id in (select changed.tender_id from changed)

),

judged_bids as (

    select candidate_bids.*
    from candidate_bids
    where candidate_bids.tender_id in (select changed.tender_id from changed)

),

all_but_winner as (

    select tender_id
    from judged_lots
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
    from judged_lots as lots
    inner join judged_bids as latest_bids on lots.tender_id = latest_bids.tender_id and latest_bids.is_valid
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
    from judged_lots as lots
    inner join judged_bids as b on lots.tender_id = b.tender_id and not b.is_valid
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
    from judged_lots as lots
    inner join (  -- noqa: ST05
        select
            judged_bids.*,
            min(judged_bids.bid_price) over (partition by judged_bids.tender_id) as lot_min_price
        from judged_bids
        where judged_bids.bid_price > 0
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
    from judged_lots as lots
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
    from judged_lots
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
    from judged_lots
    where winner_submitted_at > bid_deadline

),

-- the judged lots' split purchases, as computed there
split_lots as (

    select split_signals.*
    from split_signals
    where split_signals.tender_id in (select changed.tender_id from changed)

),

signals as (

    {{ signals_union([
        {'rule_id': "'pf_single_bid'", 'from': 'single_bid'},
        {'rule_id': "'pf_all_but_winner_rejected'", 'from': 'all_but_winner_signals'},
        {'rule_id': "'pf_lowest_rejected'", 'from': 'lowest_rejected'},
        {'rule_id': "'pf_short_bid_period'", 'from': 'short_period'},
        {'rule_id': "'pf_award_near_control'", 'from': 'near_control'},
        {'rule_id': "'pf_late_winning_bid'", 'from': 'late_winner'},
        {
            'from': 'split_lots', 'subject_type': 'subject_type', 'subject_id': 'subject_id',
            'expert_ids': 'expert_ids', 'score': 'score', 'department_code': 'department_code',
        },
    ]) }}

),

-- every changed lot: its signals, or one placeholder row (a tombstone's is dropped)
final as (

    {{ signals_by_changed_lot('changed', 'signals') }}

)

select * from final
