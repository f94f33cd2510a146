-- grain: one row per bid, with the attributes of its lot and whether it won.
-- Incremental by what changed (macros/changed_keys.sql): a lot's rows depend only on its own
-- bids, its tender row and its award (the window ranks a bidder's bids within the lot) and on
-- var timezone, so a night recomputes only the lots whose input rows changed. A lot has rows
-- exactly when it has a tender row and a bid with a bidder: only such lots get a fingerprint, so
-- every changed lot gives rows and one that loses them comes back as a tombstone (no placeholder).
-- A night fingerprints only the lots whose staging rows were stamped since this model's last
-- build, and the lots its own rows of those bids were in (a bid moved to another lot); every lot
-- after a re-delivered day (macro changed_keys_since_last_staged, macros/change_log.sql).
{#- pre_hook: a table built before the model was incremental gains the column (null), so its
    first incremental run recomputes every lot, as a full refresh would (no deploy step); and the
    staging bids get an index on tender_id, by which a night reads its lots' bids -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='tender_id',
    on_schema_change='fail',
    pre_hook=[
        "alter table if exists {{ this }} add column if not exists input_fingerprint text",
        "create index if not exists stg_trading_centre__bids_tender_idx on {{ ref('stg_trading_centre__bids').schema }}.stg_trading_centre__bids (tender_id)",
    ],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'tender', 'tender_id') }}",
        "{{ lasting_index(this, 'bidder', 'bidder_id') }}",
        "{{ lasting_index(this, 'bid', 'bid_id') }}",
    ],
) }}

{%- set staged = changed_keys_since_last_staged([
    (ref('stg_trading_centre__bids'), 'tender_id'), (ref('stg_trading_centre__bids'), 'bid_id', this, 'bid_id'),
    (ref('stg_trading_centre__tenders'), 'tender_id'), (ref('stg_trading_centre__awards'), 'tender_id'),
]) %}
{%- set candidates = 'select key_value from candidate_lots' if staged is not none else none %}

with
{%- if staged is not none %}

-- the lots that may have changed, found once: each reader below takes them as its own array,
-- and with the lookup inlined there each of them found them again (seven times; at scale 16
-- each time read the night's bids and looked them up in this table by bid_id)
candidate_lots as materialized (

    {{ staged }}

),
{%- endif %}

-- not materialized: each read whole (on a night, for the lots that may have changed) for the
-- fingerprints, and by the changed lots' keys below
bids as not materialized (

    select * from {{ ref('stg_trading_centre__bids') }}
    {{ where_candidates(candidates) }}

),

tenders as not materialized (

    select * from {{ ref('stg_trading_centre__tenders') }}
    {{ where_candidates(candidates) }}

),

awards as not materialized (

    select * from {{ ref('stg_trading_centre__awards') }}
    {{ where_candidates(candidates) }}

),

-- a lot's input rows: its bids, its tender row and its award, the columns read below
lot_inputs as (

    select
        tender_id,
        'bid' as input_kind,
        row(
            bid_id, bidder_id, bid_price, submitted_at, client_ip, client_mac, file_maker_code,
            ca_cert_serial, bond_account, project_manager_id_no, is_valid, rejection_reason
        )::text as input_row
    from bids
    where bidder_id is not null

    union all

    select
        tender_id,
        'tender' as input_kind,
        row(
            category, industry, region_code, tenderer_id, procurement_method, evaluation_method,
            control_price, announced_at, bid_deadline, opened_at
        )::text as input_row
    from tenders

    union all

    select
        tender_id,
        'award' as input_kind,
        row(winner_id, award_price, awarded_at)::text as input_row
    from awards

),

all_fingerprints as (

    {{ input_fingerprints('lot_inputs', 'tender_id', ['input_kind', 'input_row'], salt="'" ~ var('timezone') ~ "'") }}

),

-- the lots that have rows: a tender row and a bid with a bidder
fingerprints as (

    select
        all_fingerprints.tender_id,
        all_fingerprints.input_fingerprint
    from all_fingerprints
    where
        all_fingerprints.tender_id in (select tenders.tender_id from tenders)
        and all_fingerprints.tender_id in (
            select bids.tender_id from bids
            where bids.bidder_id is not null
        )

),

changed as (

    {{ changed_keys('fingerprints', 'tender_id', candidates) }}

),

-- staging read by the changed lots' keys alone, not through the candidates' CTEs above: there
-- each lot's lookup of its tender row and award (nested loops) also tested the whole candidate
-- array, sorted again for every lookup (6 of the 11 s of a scale-16 night's 2,161 lots)
staged_bids as not materialized (

    select * from {{ ref('stg_trading_centre__bids') }}

),

staged_tenders as not materialized (

    select * from {{ ref('stg_trading_centre__tenders') }}

),

staged_awards as not materialized (

    select * from {{ ref('stg_trading_centre__awards') }}

),

joined as (

    select
        bids.bid_id,
        bids.tender_id,
        bids.bidder_id,
        bids.bid_price,
        bids.submitted_at,
        bids.client_ip,
        bids.client_mac,
        bids.file_maker_code,
        bids.ca_cert_serial,
        bids.bond_account,
        bids.project_manager_id_no,
        -- a bid without a validity verdict counts as valid unless a rejection reason is given
        coalesce(bids.is_valid, bids.rejection_reason is null) as is_valid,
        bids.rejection_reason,
        tenders.category,
        coalesce(tenders.industry, 'other') as industry,
        tenders.region_code,
        -- prefecture (州市) = first four digits of the GB/T 2260 code
        left(tenders.region_code, 4) || '00' as prefecture_code,
        tenders.tenderer_id,
        tenders.procurement_method,
        tenders.evaluation_method,
        tenders.control_price,
        tenders.announced_at,
        tenders.bid_deadline,
        coalesce(
            {{ local_date('bids.submitted_at') }},
            {{ local_date('tenders.bid_deadline') }},
            {{ local_date('tenders.opened_at') }}
        ) as bid_date,
        extract(year from coalesce(
            {{ local_date('tenders.bid_deadline') }},
            {{ local_date('bids.submitted_at') }},
            {{ local_date('tenders.announced_at') }}
        ))::integer as lot_year,
        awards.winner_id,
        awards.award_price,
        awards.awarded_at,
        coalesce(awards.winner_id = bids.bidder_id, false) as is_winner,
        -- a bidder that submitted twice in one lot: its newest bid counts (1 = newest)
        row_number() over (
            partition by bids.tender_id, bids.bidder_id
            order by bids.submitted_at desc nulls last, bids.bid_id desc
        ) as bidder_bid_seq
    from staged_bids as bids
    inner join staged_tenders as tenders on bids.tender_id = tenders.tender_id
    left join staged_awards as awards on bids.tender_id = awards.tender_id
    where
        bids.bidder_id is not null
        and bids.tender_id = any(array(select changed_lots.tender_id from changed as changed_lots))

),

-- every changed lot: its bids (a tombstone's one empty row is dropped by the strategy)
final as (

    select
        joined.bid_id,
        changed.tender_id,
        joined.bidder_id,
        joined.bid_price,
        joined.submitted_at,
        joined.client_ip,
        joined.client_mac,
        joined.file_maker_code,
        joined.ca_cert_serial,
        joined.bond_account,
        joined.project_manager_id_no,
        joined.is_valid,
        joined.rejection_reason,
        joined.category,
        joined.industry,
        joined.region_code,
        joined.prefecture_code,
        joined.tenderer_id,
        joined.procurement_method,
        joined.evaluation_method,
        joined.control_price,
        joined.announced_at,
        joined.bid_deadline,
        joined.bid_date,
        joined.lot_year,
        joined.winner_id,
        joined.award_price,
        joined.awarded_at,
        joined.is_winner,
        joined.bidder_bid_seq,
        changed.input_fingerprint
    from changed
    left join joined on changed.tender_id = joined.tender_id

)

select * from final
