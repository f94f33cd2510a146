-- grain: one row per tender (lot), with its bids counted and its winning bid.
-- Incremental by what changed (macros/changed_keys.sql): a lot's row depends only on its tender
-- row, its award, its own bids and var timezone, so a night recomputes only the lots whose input
-- rows changed. Every lot with a tender row has a row: the keys are the tenders'. A night
-- fingerprints only the lots whose staging rows were stamped since this model's last build or
-- that int_bids_joined_to_lots recomputed since; every lot after a re-delivered day
-- (macro changed_keys_since_last_staged, macros/change_log.sql).
{#- pre_hook: a table built before the model was incremental gains the column (null), so its
    first incremental run recomputes every lot, as a full refresh would (no deploy step) -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='tender_id',
    on_schema_change='fail',
    pre_hook=["alter table if exists {{ this }} add column if not exists input_fingerprint text"],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'tender', 'tender_id', unique=true) }}",
    ],
) }}

{%- set candidates = changed_keys_since_last_staged(
    [(ref('stg_trading_centre__tenders'), 'tender_id'), (ref('stg_trading_centre__awards'), 'tender_id')],
    parents=['int_bids_joined_to_lots'],
) %}

with tenders as (

    select * from {{ ref('stg_trading_centre__tenders') }}
    {{ where_candidates(candidates) }}

),

awards as (

    select * from {{ ref('stg_trading_centre__awards') }}
    {{ where_candidates(candidates) }}

),

-- not materialized: read whole (on a night, for the lots that may have changed) for the
-- fingerprints, and by the changed lots' keys below
bids as not materialized (

    select * from {{ ref('int_bids_joined_to_lots') }}
    {{ where_candidates(candidates) }}

),

-- a lot's input rows: its tender row and its award (the columns read below) and its bids
lot_inputs as (

    select
        tender_id,
        'tender' as input_kind,
        row(
            project_code, category, industry, region_code, tenderer_id, agency_id, procurement_method,
            evaluation_method, control_price, announced_at, bid_deadline, opened_at, status
        )::text as input_row
    from tenders

    union all

    select
        tender_id,
        'award' as input_kind,
        row(winner_id, award_price, awarded_at)::text as input_row
    from awards

    union all

    -- its bids as int_bids_joined_to_lots's fingerprint of them (the lot's bids, tender row and
    -- award): one value per lot, cheaper than hashing every bid again
    select distinct
        tender_id,
        'bids' as input_kind,
        input_fingerprint as input_row
    from bids

),

all_fingerprints as (

    {{ input_fingerprints('lot_inputs', 'tender_id', ['input_kind', 'input_row'], salt="'" ~ var('timezone') ~ "'") }}

),

-- the lots: those with a tender row
fingerprints as (

    select
        all_fingerprints.tender_id,
        all_fingerprints.input_fingerprint
    from all_fingerprints
    where all_fingerprints.tender_id in (select tenders.tender_id from tenders)

),

changed as (

    {{ changed_keys('fingerprints', 'tender_id', candidates) }}

),

bid_counts as (

    select
        tender_id,
        count(*) as n_bids,
        count(distinct bidder_id) as n_bidders,
        count(*) filter (where is_valid and bidder_bid_seq = 1) as n_valid_bids,
        count(*) filter (where not is_valid) as n_rejected_bids,
        min(bid_price) as min_bid_price,
        min(bid_price) filter (where is_valid and bidder_bid_seq = 1) as min_valid_bid_price
    from bids
    where tender_id in (select changed.tender_id from changed)
    group by tender_id

),

winning_bids as (

    select distinct on (tender_id)
        tender_id,
        bid_id as winner_bid_id,
        bid_price as winner_bid_price,
        submitted_at as winner_submitted_at,
        is_valid as winner_bid_valid
    from bids
    where is_winner and tender_id in (select changed.tender_id from changed)
    order by tender_id, bidder_bid_seq

),

final as (

    select
        changed.tender_id,
        tenders.project_code,
        tenders.category,
        coalesce(tenders.industry, 'other') as industry,
        tenders.region_code,
        left(tenders.region_code, 4) || '00' as prefecture_code,
        tenders.tenderer_id,
        tenders.agency_id,
        tenders.procurement_method,
        tenders.evaluation_method,
        tenders.control_price,
        tenders.announced_at,
        tenders.bid_deadline,
        tenders.opened_at,
        tenders.status,
        {{ local_date('tenders.announced_at') }} as announced_on,
        {{ local_date('tenders.bid_deadline') }} as deadline_on,
        coalesce(
            {{ local_date('tenders.bid_deadline') }},
            {{ local_date('tenders.opened_at') }},
            {{ local_date('tenders.announced_at') }}
        ) as lot_date,
        extract(year from coalesce(
            {{ local_date('tenders.bid_deadline') }},
            {{ local_date('tenders.opened_at') }},
            {{ local_date('tenders.announced_at') }}
        ))::integer as lot_year,
        coalesce(bid_counts.n_bids, 0) as n_bids,
        coalesce(bid_counts.n_bidders, 0) as n_bidders,
        coalesce(bid_counts.n_valid_bids, 0) as n_valid_bids,
        coalesce(bid_counts.n_rejected_bids, 0) as n_rejected_bids,
        bid_counts.min_bid_price,
        bid_counts.min_valid_bid_price,
        awards.winner_id,
        awards.award_price,
        awards.awarded_at,
        {{ local_date('awards.awarded_at') }} as awarded_on,
        winning_bids.winner_bid_id,
        winning_bids.winner_bid_price,
        winning_bids.winner_submitted_at,
        winning_bids.winner_bid_valid,
        changed.input_fingerprint
    from changed
    -- a tombstone (its tender row is gone) keeps one empty row, which the strategy drops
    left join tenders on changed.tender_id = tenders.tender_id
    left join bid_counts on changed.tender_id = bid_counts.tender_id
    left join awards on changed.tender_id = awards.tender_id
    left join winning_bids on changed.tender_id = winning_bids.tender_id

)

select * from final
