-- grain: one row per rule x tender (lot) for the Art. 40 rules (a40_*) found among the bids of
-- one lot, and one placeholder row (rule_id null) for a lot with bids and none found: its
-- fingerprint must be kept somewhere, or the lot would be recomputed every night.
-- int_signals_bid_collusion takes `where rule_id is not null`.
-- Bids of different bidders of one lot that share a trace of the electronic bidding system
-- (file-maker code, CA certificate, client IP or MAC, bond account, project manager) or whose
-- prices are identical or in regular progression beyond chance (int_lot_price_patterns):
-- 《招标投标法实施条例》第40条 "视为串通投标".
-- Incremental by what changed (macros/changed_keys.sql): a lot's signals depend only on its own
-- bids (the traces are compared within the lot) and on its price-pattern signals, which are
-- computed for every lot (a filter of one row per lot) and are an input of the fingerprint: their
-- chance calibration is the market's, so a lot whose pattern verdict or evidence moves is
-- recomputed, the others are not. A night fingerprints only the lots that may have changed: those
-- int_bids_joined_to_lots recomputed since this model's last build (macros/change_log.sql), and
-- those with a price-pattern signal now or in this table (the others had none and have none).
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

{%- set logged = changed_keys_since_last_build(['int_bids_joined_to_lots']) %}
{%- set candidates = none %}
{%- if logged is not none %}
{%- set candidates -%}
{{ logged }}
union
select tender_id from {{ ref('int_lot_price_patterns') }} where is_identical_improbable or is_progression_improbable
union
select tender_id from {{ this }} where rule_id in ('a40_identical_price', 'a40_price_progression')
{%- endset %}
{%- endif %}

-- not materialized: read (on a night, the candidate lots' bids) for the fingerprints, and by the
-- changed lots' keys below
with bids as not materialized (

    select * from {{ ref('int_bids_joined_to_lots') }}

),

candidate_bids as (

    select *
    from bids
    {{ where_candidates(candidates) }}

),

-- identical prices and progressions: only where improbable by chance for that lot
-- (int_lot_price_patterns: expected counts from its bids, spread and rounding grains)
price_patterns as (

    select * from {{ ref('int_lot_price_patterns') }}

),

price_signals as (

    select
        'a40_identical_price' as rule_id,
        tender_id,
        ties_first_bid_date as signal_date,
        (
            select array_agg(distinct b.bidder_id order by b.bidder_id)
            from jsonb_array_elements(price_patterns.tie_groups) as g (grp)
            cross join lateral jsonb_array_elements_text(g.grp -> 'bidder_ids') as b (bidder_id)
        ) as entity_ids,
        jsonb_build_object(
            'field', 'bid_price',
            'groups', tie_groups,
            'n_bids', n_bids,
            'n_tied_pairs', n_tied_pairs,
            'chance_expected', round((ties_expected * ties_factor)::numeric, 6),
            'chance_calibration_factor', round(ties_factor::numeric, 3),
            'chance_probability', ties_p_value,
            'alpha', {{ var('a40_price_alpha', 0.001) }}
        ) as evidence
    from price_patterns
    where is_identical_improbable

    union all

    select
        'a40_price_progression' as rule_id,
        tender_id,
        progressions_first_bid_date as signal_date,
        (
            select array_agg(distinct b.bidder_id order by b.bidder_id)
            from jsonb_array_elements(price_patterns.progression_triples) as g (tri)
            cross join lateral jsonb_array_elements_text(g.tri -> 'bidder_ids') as b (bidder_id)
        ) as entity_ids,
        jsonb_build_object(
            'progressions', progression_triples,
            'n_bids', n_bids,
            'n_arithmetic', n_arithmetic,
            'n_geometric', n_geometric,
            'chance_expected', round((progressions_expected * progressions_factor)::numeric, 6),
            'chance_calibration_factor', round(progressions_factor::numeric, 3),
            'chance_probability', progressions_p_value,
            'alpha', {{ var('a40_price_alpha', 0.001) }}
        ) as evidence
    from price_patterns
    where is_progression_improbable

),

-- a lot's input rows: its bids (the columns read below) and its price-pattern signals
lot_inputs as (

    select
        tender_id,
        'bid' as input_kind,
        row(
            bid_id, bidder_id, bid_date, file_maker_code, ca_cert_serial, client_ip, client_mac,
            bond_account, project_manager_id_no
        )::text as input_row
    from candidate_bids

    union all

    select
        tender_id,
        'price' as input_kind,
        row(rule_id, signal_date, entity_ids, evidence)::text as input_row
    from price_signals

),

fingerprints as (

    {{ input_fingerprints('lot_inputs', 'tender_id', ['input_kind', 'input_row']) }}

),

changed as (

    {{ changed_keys('fingerprints', 'tender_id', candidates) }}

),

-- one row per bid and traced field, with the value normalised for comparison and the value as
-- entered (shown in the evidence, masked, only for the values found shared)
traces as (

    select
        bids.tender_id,
        bids.bid_id,
        bids.bidder_id,
        bids.bid_date,
        t.field,
        t.rule_id,
        t.norm_value,
        t.raw_value
    from bids
    cross join
        lateral (
            values
            ('file_maker_code', 'a40_same_file_maker', upper(bids.file_maker_code), bids.file_maker_code),
            ('ca_cert_serial', 'a40_same_ca_cert', upper(bids.ca_cert_serial), bids.ca_cert_serial),
            ('client_ip', 'a40_same_ip', bids.client_ip, bids.client_ip),
            (
                'client_mac', 'a40_same_mac',
                nullif(upper(regexp_replace(bids.client_mac, '[^0-9A-Fa-f]', '', 'g')), ''),
                bids.client_mac
            ),
            (
                'bond_account', 'a40_same_bond_account',
                nullif(regexp_replace(bids.bond_account, '[[:space:]-]', '', 'g'), ''),
                bids.bond_account
            ),
            (
                'project_manager_id_no', 'a40_same_project_manager',
                bids.project_manager_id_no,
                bids.project_manager_id_no
            )
        ) as t (field, rule_id, norm_value, raw_value)
    where t.norm_value is not null and bids.tender_id in (select changed.tender_id from changed)

),

-- the values shared by different bidders of a lot (hashed: no sort of every trace)
shared_keys as (

    select
        tender_id,
        rule_id,
        norm_value
    from traces
    group by tender_id, rule_id, norm_value
    having min(bidder_id) <> max(bidder_id)

),

shared_values as (

    select
        traces.tender_id,
        traces.rule_id,
        traces.field,
        traces.norm_value,
        min(
            case traces.field
                when 'bond_account' then {{ mask_account('traces.raw_value') }}
                when 'project_manager_id_no' then {{ mask_id_no('traces.raw_value') }}
                else traces.raw_value
            end
        ) as shown_value,
        min(traces.bid_date) as first_bid_date,
        array_agg(distinct traces.bidder_id order by traces.bidder_id) as bidder_ids,
        array_agg(distinct traces.bid_id order by traces.bid_id) as bid_ids
    from traces
    inner join shared_keys
        on traces.tender_id = shared_keys.tender_id
        and traces.rule_id = shared_keys.rule_id
        and traces.norm_value = shared_keys.norm_value
    group by traces.tender_id, traces.rule_id, traces.field, traces.norm_value

),

shared_signals as (

    select
        rule_id,
        tender_id,
        min(first_bid_date) as signal_date,
        jsonb_build_object(
            'field', min(field),
            'groups', jsonb_agg(
                jsonb_build_object(
                    'value', shown_value, 'bidder_ids', to_jsonb(bidder_ids), 'bid_ids', to_jsonb(bid_ids)
                )
                order by shown_value
            )
        ) as evidence
    from shared_values
    group by rule_id, tender_id

),

shared_entities as (

    select
        shared_values.rule_id,
        shared_values.tender_id,
        array_agg(distinct b.bidder_id order by b.bidder_id) as entity_ids
    from shared_values
    cross join lateral unnest(shared_values.bidder_ids) as b (bidder_id)
    group by shared_values.rule_id, shared_values.tender_id

),

shared_with_entities as (

    select
        shared_signals.rule_id,
        shared_signals.tender_id,
        shared_entities.entity_ids,
        shared_signals.signal_date,
        shared_signals.evidence
    from shared_signals
    inner join shared_entities
        on shared_signals.rule_id = shared_entities.rule_id
        and shared_signals.tender_id = shared_entities.tender_id

),

changed_price_signals as (

    select price_signals.*
    from price_signals
    where price_signals.tender_id in (select changed.tender_id from changed)

),

signals as (

    {{ signals_union([
        {'from': 'shared_with_entities'},
        {'from': 'changed_price_signals'},
    ]) }}

),

-- every changed lot: its signals, or one placeholder row (a tombstone's is dropped)
final as (

    {{ signals_by_changed_lot('changed', 'signals') }}

)

select * from final
