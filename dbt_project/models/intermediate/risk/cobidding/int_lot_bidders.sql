-- grain: one row per tender (lot) x bidder that bid in it: where the lot lies (its population,
-- category x prefecture), its date, whether the bidder won and from when the win was known
-- (won_on: the award's local date, never before lot_date; lot_date where the award has no date;
-- null for the other bidders). The network counts a joint win in the history only from that day
-- on: awards arrive days after the bidding closed, and a win counted from its lot's date would
-- change the history of every lot judged since, each night. The co-bidding network judges
-- every lot as of its date from these rows (int_cobid_null_calibration, int_bidder_pairs_scored,
-- int_lot_network_scores). lot_date = the day its bidding closed (the bid deadline, local date;
-- without one, its last bid's date), the same for all its bidders: the lot is judged as of the day
-- its bidders were all known. Not its first bid's date: bids are delivered up to the deadline (and
-- a few days after, on a late batch), so a lot dated by its first bid kept changing for two weeks
-- after that date, and every lot judged since was judged again each night.
-- Incremental by what changed (macros/changed_keys.sql): a night rewrites the lots whose bids
-- changed, fingerprinting only the lots int_bids_joined_to_lots recomputed since its last build.
-- Indexed by lot and by (bidder, date): a night reads its lots and a firm's history by index, not
-- the market's. No index by population: none read it (0 scans in a scale-16 year and night),
-- and each index costs the night's inserts random reads of a cold index (15,651 rows inserted
-- in 8 s cold, 1.1 s warm). The pre-hook adds won_on to a table built before it existed.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='tender_id',
    on_schema_change='fail',
    pre_hook=["alter table if exists {{ this }} add column if not exists won_on date"],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'lot', 'tender_id, bidder_id', unique=true) }}",
        "drop index if exists {{ this.schema }}.{{ this.identifier }}_history_idx",
        "{{ lasting_index(this, 'bidder', 'bidder_id, lot_date') }}",
    ],
) }}

{%- set candidates = changed_keys_since_last_build(['int_bids_joined_to_lots']) %}

with bids as (

    select * from {{ ref('int_bids_joined_to_lots') }}

),

-- the bids of the lots that may have changed (on a night, those int_bids_joined_to_lots
-- recomputed since this model's last build: macros/change_log.sql)
candidate_bids as (

    select *
    from bids
    {{ where_candidates(candidates) }}

),

fingerprints as (

    {{ input_fingerprints(
        'candidate_bids', 'tender_id',
        ['bid_id', 'bidder_id', 'category', 'prefecture_code', 'bid_date', 'bid_deadline', 'is_winner',
         'winner_id', 'bid_price', 'bidder_bid_seq', 'awarded_at']
    ) }}

),

changed as (

    {{ changed_keys('fingerprints', 'tender_id', candidates) }}

),

changed_bids as (

    select candidate_bids.*
    from candidate_bids
    inner join changed on candidate_bids.tender_id = changed.tender_id

),

bidders_in_lots as (

    select
        changed_bids.tender_id,
        changed_bids.bidder_id,
        min(changed_bids.category) as category,
        min(changed_bids.prefecture_code) as prefecture_code,
        coalesce(
            min(min({{ local_date('changed_bids.bid_deadline') }})) over (partition by changed_bids.tender_id),
            max(max(changed_bids.bid_date)) over (partition by changed_bids.tender_id)
        ) as lot_date,
        min(changed_bids.bid_date) as bid_date,
        min(changed_bids.winner_id) as winner_id,
        bool_or(changed_bids.is_winner) as won,
        min({{ local_date('changed_bids.awarded_at') }}) as award_date,
        min(changed_bids.bid_price) filter (where changed_bids.bidder_bid_seq = 1) as bid_price,
        min(changed.input_fingerprint) as input_fingerprint
    from changed_bids
    inner join changed on changed_bids.tender_id = changed.tender_id
    group by changed_bids.tender_id, changed_bids.bidder_id

),

final as (

    select
        tender_id,
        bidder_id,
        category,
        prefecture_code,
        lot_date,
        bid_date,
        winner_id,
        won,
        case when won then greatest(coalesce(award_date, lot_date), lot_date) end as won_on,
        bid_price,
        input_fingerprint
    from bidders_in_lots

)

select * from final
