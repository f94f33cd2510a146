-- grain: one row per rule x tender (lot) for the Art. 34 rules (a34_*): related bidders in one
-- lot, and one placeholder row (rule_id null) for a lot with register keys and none found: its
-- fingerprint must be kept somewhere, or the lot would be recomputed every night.
-- int_signals_related_bidders takes `where rule_id is not null`.
-- 《招标投标法实施条例》第34条第2款: units whose responsible person is the same person, or between
-- which there is a controlling relationship, may not bid for the same lot. A shared contact
-- phone is the register's trace of the same: one office behind two bidders.
-- Incremental by what changed (macros/changed_keys.sql): a lot's signals depend only on its
-- bidders (their first bid date) and on those bidders' register keys (legal representative,
-- phone, controller), compared within the lot: the fingerprint is over those keyed rows, so a
-- change in the register (a new legal representative, a link) recomputes the lots where the
-- entity bid, and a new lot's bids recompute that lot only. A night fingerprints only the lots
-- int_bids_joined_to_lots recomputed since this model's last build and those where an entity
-- whose register rows were stamped since bid; every lot after a re-delivered day (macro
-- changed_keys_since_last_staged, macros/change_log.sql).
-- (nested loops off: the planner underestimates the self-joins of bids within a lot and would
-- take minutes on a province-year of bids)
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='tender_id',
    on_schema_change='fail',
    pre_hook=["set local enable_nestloop = off", "set local work_mem = '256MB'"],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'tender', 'tender_id') }}",
    ],
) }}

{%- set candidates = changed_keys_since_last_staged([
    (ref('stg_trading_centre__entities'), 'entity_id', ref('int_bids_joined_to_lots'), 'bidder_id'),
    (ref('stg_trading_centre__entity_links'), 'entity_id', ref('int_bids_joined_to_lots'), 'bidder_id'),
], parents=['int_bids_joined_to_lots']) %}

with bids as (

    select * from {{ ref('int_bids_joined_to_lots') }}
    {{ where_candidates(candidates) }}

),

entities as (

    select * from {{ ref('stg_trading_centre__entities') }}
    {%- if candidates is not none %}
    where entity_id = any(array(select bids.bidder_id from bids))
    {%- endif %}

),

entity_links as (

    select * from {{ ref('stg_trading_centre__entity_links') }}
    {%- if candidates is not none %}
    where entity_id = any(array(select bids.bidder_id from bids))
    {%- endif %}

),

lot_bidders as (

    select
        tender_id,
        bidder_id,
        min(bid_date) as bid_date
    from bids
    group by tender_id, bidder_id

),

-- what ties an entity to others: its legal representative (register or links), its
-- normalised contact phone, and whoever controls it (> 50 %, or itself)
entity_keys as (

    select
        entity_id,
        'a34_shared_legal_rep' as rule_id,
        legal_rep_id_no as key_value,
        null::numeric as share_pct
    from entities
    where nullif(legal_rep_id_no, '') is not null

    union

    select
        entity_id,
        'a34_shared_legal_rep' as rule_id,
        linked_id as key_value,
        null::numeric as share_pct
    from entity_links
    where link_type = 'legal_rep' and linked_id is not null

    union

    select
        entity_id,
        'a34_shared_phone' as rule_id,
        regexp_replace(regexp_replace(contact_phone, '[^0-9]', '', 'g'), '^(0086|86)(1[0-9]{10})$', '\2') as key_value,
        null::numeric as share_pct
    from entities
    where length(regexp_replace(contact_phone, '[^0-9]', '', 'g')) >= 7

    union

    select
        entity_id,
        'a34_controlling_shareholder' as rule_id,
        linked_id as key_value,
        share_pct
    from entity_links
    where link_type = 'shareholder' and share_pct > 50 and linked_id is not null

    union

    select
        entity_id,
        'a34_controlling_shareholder' as rule_id,
        entity_id as key_value,
        100::numeric as share_pct
    from entities

),

keyed as (

    select
        lot_bidders.tender_id,
        lot_bidders.bidder_id,
        lot_bidders.bid_date,
        entity_keys.rule_id,
        entity_keys.key_value,
        entity_keys.share_pct
    from lot_bidders
    inner join entity_keys on lot_bidders.bidder_id = entity_keys.entity_id

),

-- a lot's input rows are its keyed rows: only a lot with some has a fingerprint (without, it
-- has no signal, and one that loses them all comes back as a tombstone)
fingerprints as (

    {{ input_fingerprints('keyed', 'tender_id', ['bidder_id', 'bid_date', 'rule_id', 'key_value', 'share_pct']) }}

),

changed as (

    {{ changed_keys('fingerprints', 'tender_id', candidates) }}

),

changed_keyed as (

    select keyed.*
    from keyed
    where keyed.tender_id in (select changed.tender_id from changed)

),

-- the keys shared by different bidders of a lot (hashed: no sort of every bidder's keys)
shared_keys as (

    select
        tender_id,
        rule_id,
        key_value
    from changed_keyed
    group by tender_id, rule_id, key_value
    having min(bidder_id) <> max(bidder_id)

),

shared as (

    select
        changed_keyed.tender_id,
        changed_keyed.rule_id,
        changed_keyed.key_value,
        min(changed_keyed.bid_date) as bid_date,
        array_agg(distinct changed_keyed.bidder_id order by changed_keyed.bidder_id) as bidder_ids,
        jsonb_object_agg(changed_keyed.bidder_id, changed_keyed.share_pct) filter (
            where changed_keyed.share_pct is not null
        ) as share_pct_by_bidder
    from changed_keyed
    inner join shared_keys
        on changed_keyed.tender_id = shared_keys.tender_id
        and changed_keyed.rule_id = shared_keys.rule_id
        and changed_keyed.key_value = shared_keys.key_value
    group by changed_keyed.tender_id, changed_keyed.rule_id, changed_keyed.key_value

),

described as (

    select
        tender_id,
        rule_id,
        bid_date,
        bidder_ids,
        case rule_id
            when 'a34_shared_legal_rep'
                then jsonb_build_object(
                        'person', {{ mask_id_no('key_value') }}, 'bidder_ids', to_jsonb(bidder_ids)
                    )
            when 'a34_shared_phone'
                then jsonb_build_object(
                        'phone', {{ mask_phone('key_value') }}, 'bidder_ids', to_jsonb(bidder_ids)
                    )
            else jsonb_build_object(
                    'kind', case when key_value = any(bidder_ids) then 'parent' else 'common_parent' end,
                    'controller',
                    case when {{ is_person_id('key_value') }} then {{ mask_id_no('key_value') }} else key_value end,
                    'share_pct', share_pct_by_bidder,
                    'bidder_ids', to_jsonb(bidder_ids)
                )
        end as item
    from shared

),

signals as (

    select
        rule_id,
        tender_id,
        min(bid_date) as signal_date,
        jsonb_build_object('links', jsonb_agg(item order by item::text)) as evidence
    from described
    group by rule_id, tender_id

),

signal_entities as (

    select
        described.rule_id,
        described.tender_id,
        array_agg(distinct b.bidder_id order by b.bidder_id) as entity_ids
    from described
    cross join lateral unnest(described.bidder_ids) as b (bidder_id)
    group by described.rule_id, described.tender_id

),

signals_with_entities as (

    select
        signals.rule_id,
        signals.tender_id,
        signal_entities.entity_ids,
        signals.signal_date,
        signals.evidence
    from signals
    inner join signal_entities
        on signals.rule_id = signal_entities.rule_id
        and signals.tender_id = signal_entities.tender_id

),

signals_all as (

    {{ signals_union([{'from': 'signals_with_entities'}]) }}

),

-- every changed lot: its signals, or one placeholder row (a tombstone's is dropped)
final as (

    select
        signals_all.rule_id,
        signals_all.subject_type,
        signals_all.subject_id,
        changed.tender_id,
        signals_all.entity_ids,
        signals_all.expert_ids,
        signals_all.signal_date,
        signals_all.score,
        signals_all.evidence,
        signals_all.department_code,
        changed.input_fingerprint
    from changed
    left join signals_all on changed.tender_id = signals_all.tender_id

)

select * from final
