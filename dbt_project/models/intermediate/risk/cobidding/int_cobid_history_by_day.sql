-- grain: one row per day with co-bidding history events (int_cobid_history_by_lot): the day's
-- lot and win events (counts and hash sums) and the fingerprints of the history up to and
-- including it. lots_fingerprint covers the lot events alone, as a month end's calibration reads
-- them (int_cobid_null_calibration). input_fingerprint covers lots and wins, as a lot's pairs read
-- them as of its date (int_bidder_pairs_scored). A change on day d changes the fingerprints of d
-- and of every later day, of no earlier one: a night in date order changes its own days, a
-- back-filled day every day since. Sums of 64-bit hashes are exact (numeric) and do not depend on
-- the order of their terms.
-- Incremental by day (macros/changed_keys.sql): each night sums the per-lot table again (a few
-- hundred thousand rows of sums, nothing hashed) and replaces the days whose fingerprint
-- changed. The change log (ops.model_changes) then names those days: the pairs model re-judges
-- only the lots dated on them, instead of fingerprinting every lot of the history.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='event_date',
    on_schema_change='fail',
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'day', 'event_date', unique=true) }}",
    ],
) }}

with history_by_lot as (

    select * from {{ ref('int_cobid_history_by_lot') }}
    where event_kind is not null

),

days as (

    select
        event_date,
        coalesce(sum(n_rows) filter (where event_kind = 'lot'), 0) as n_lot_rows,
        coalesce(sum(row_hashes) filter (where event_kind = 'lot'), 0) as lot_row_hashes,
        coalesce(sum(n_rows) filter (where event_kind = 'win'), 0) as n_win_rows,
        coalesce(sum(row_hashes) filter (where event_kind = 'win'), 0) as win_row_hashes
    from history_by_lot
    group by event_date

),

cumulated as (

    select
        event_date,
        n_lot_rows,
        lot_row_hashes,
        n_win_rows,
        win_row_hashes,
        md5((sum(n_lot_rows) over history)::text || '/' || (sum(lot_row_hashes) over history)::text)
            as lots_fingerprint,
        (sum(n_win_rows) over history)::text || '/' || (sum(win_row_hashes) over history)::text as wins_summed
    from days
    window history as (order by event_date)

),

fingerprints as (

    select
        event_date,
        n_lot_rows,
        lot_row_hashes,
        n_win_rows,
        win_row_hashes,
        lots_fingerprint,
        md5(lots_fingerprint || '/' || wins_summed || '/{{ model_code_checksum() }}') as input_fingerprint
    from cumulated

),

changed as (

    {{ changed_keys('fingerprints', 'event_date') }}

),

final as (

    select
        changed.event_date,
        fingerprints.n_lot_rows,
        fingerprints.lot_row_hashes,
        fingerprints.n_win_rows,
        fingerprints.win_row_hashes,
        fingerprints.lots_fingerprint,
        changed.input_fingerprint
    from changed
    left join fingerprints on changed.event_date = fingerprints.event_date

)

select * from final
