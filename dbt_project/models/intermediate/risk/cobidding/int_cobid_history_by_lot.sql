-- grain: one row per lot x day x kind of history event x population (category x prefecture:
-- one, unless a lot's bidders name several), as the co-bidding network counts its history:
-- 'lot', the lot's bidders in a population on the lot's date; 'win', its winner's row on the day
-- the win became known (won_on). Each with the count of its bidder rows and the sum of their
-- 64-bit hashes. A lot without a bidder in a population (no category or prefecture) has one row
-- without event (event_kind null), which keeps its fingerprint.
-- Why: the network judges each lot as of its date, so a lot's result depends on the history up to
-- that day. Its fingerprint used to hash every row of the history each night (2.2 M lot-bidder rows
-- at scale 16, 5 s in the pairs model and 7.5 s in the calibration). Summed here per lot, a night
-- hashes only its own lots, and int_cobid_history_by_day adds the sums up per day. The pairs
-- model counts each population's lots up to a date (N) from the 'lot' rows here, not from the
-- lot-bidder rows.
-- Incremental by what changed (macros/changed_keys.sql): a night recomputes the lots
-- int_lot_bidders recomputed since this model's last build.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='tender_id',
    on_schema_change='fail',
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'lot', 'tender_id') }}",
        "{{ lasting_index(this, 'day', 'event_date') }}",
    ],
) }}

{%- set candidates = changed_keys_since_last_build(['int_lot_bidders']) %}

with lot_bidders as (

    select * from {{ ref('int_lot_bidders') }}

),

candidate_bidders as (

    select *
    from lot_bidders
    {{ where_candidates(candidates) }}

),

fingerprints as (

    {{ input_fingerprints(
        'candidate_bidders', 'tender_id', ['bidder_id', 'category', 'prefecture_code', 'lot_date', 'won_on']
    ) }}

),

changed as (

    {{ changed_keys('fingerprints', 'tender_id', candidates) }}

),

-- the changed lots' bidders in a population: a lot on its date, a win from the day it was known
events as (

    select
        candidate_bidders.tender_id,
        candidate_bidders.lot_date as event_date,
        'lot' as event_kind,
        candidate_bidders.bidder_id,
        candidate_bidders.category,
        candidate_bidders.prefecture_code
    from candidate_bidders
    inner join changed on candidate_bidders.tender_id = changed.tender_id
    where candidate_bidders.category is not null and candidate_bidders.prefecture_code is not null
    union all
    select
        candidate_bidders.tender_id,
        candidate_bidders.won_on as event_date,
        'win' as event_kind,
        candidate_bidders.bidder_id,
        candidate_bidders.category,
        candidate_bidders.prefecture_code
    from candidate_bidders
    inner join changed on candidate_bidders.tender_id = changed.tender_id
    where
        candidate_bidders.won_on is not null
        and candidate_bidders.category is not null
        and candidate_bidders.prefecture_code is not null

),

-- the day is hashed with the row: an event moved to another day changes the history of every
-- day since its earlier one (the order of a pair's joint lots is evidence, joint_lot_ids)
event_sums as (

    select
        tender_id,
        event_date,
        event_kind,
        category,
        prefecture_code,
        count(*) as n_rows,
        sum(hashtextextended(row(event_kind, tender_id, bidder_id, category, prefecture_code, event_date)::text, 0))
            as row_hashes
    from events
    group by tender_id, event_date, event_kind, category, prefecture_code

),

final as (

    select
        changed.tender_id,
        event_sums.event_date,
        event_sums.event_kind,
        event_sums.category,
        event_sums.prefecture_code,
        event_sums.n_rows,
        event_sums.row_hashes,
        changed.input_fingerprint
    from changed
    left join event_sums on changed.tender_id = event_sums.tender_id

)

select * from final
