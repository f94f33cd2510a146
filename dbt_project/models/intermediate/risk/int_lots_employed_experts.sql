-- grain: one row per tender (lot) x expert of its panel whose employer bid for the lot (the
-- 回避 rule ex_employed_by_bidder, raised by int_signals_experts), and one placeholder row
-- (expert_id null) for a lot with a panel and no such expert: its fingerprint must be kept
-- somewhere, or the lot would be recomputed every night. Readers take `where expert_id is not null`.
-- Incremental by what changed (macros/changed_keys.sql): a lot's rows depend only on its panel
-- (int_expert_panels), its experts' employers and its bidders, so the fingerprint is over its
-- panel rows with the expert's employer and whether the employer bid. A night fingerprints only
-- the lots int_expert_panels or int_bids_joined_to_lots recomputed since this model's last
-- build, those whose evaluation rows were stamped since, and the lots of the experts whose
-- register rows were (a new employer); every lot after a re-delivered day (macro
-- changed_keys_since_last_staged, macros/change_log.sql). At scale 16 every panel of the
-- history (1.7 M) was joined to every bid (2.2 M) each night: about 4 s.
-- (nested loops off: with a night's few lots the planner would loop over the bids by lot)
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
    (ref('stg_trading_centre__evaluations'), 'tender_id'),
    (ref('stg_trading_centre__experts'), 'expert_id', ref('int_expert_panels'), 'expert_id'),
], parents=['int_expert_panels', 'int_bids_joined_to_lots']) %}

with panels as (

    select
        tender_id,
        expert_id,
        evaluated_on
    from {{ ref('int_expert_panels') }}
    {{ where_candidates(candidates) }}

),

-- (every expert with an employer, 47,000 at scale 16: hashed in a few ms)
experts as (

    select
        expert_id,
        employer_id
    from {{ ref('stg_trading_centre__experts') }}
    where employer_id is not null

),

-- the lots' bidders (a bidder may bid more than once in a lot)
bidders as (

    select distinct
        tender_id,
        bidder_id
    from {{ ref('int_bids_joined_to_lots') }}
    {{ where_candidates(candidates) }}

),

-- a lot's input rows: its panel, each expert with his employer and whether it bid
panel_employers as (

    select
        panels.tender_id,
        panels.expert_id,
        panels.evaluated_on,
        experts.employer_id,
        bidders.bidder_id is not null as employer_bid
    from panels
    left join experts on panels.expert_id = experts.expert_id
    left join bidders
        on panels.tender_id = bidders.tender_id
        and experts.employer_id = bidders.bidder_id

),

fingerprints as (

    {{ input_fingerprints('panel_employers', 'tender_id', ['expert_id', 'evaluated_on', 'employer_id', 'employer_bid']) }}

),

changed as (

    {{ changed_keys('fingerprints', 'tender_id', candidates) }}

),

employed as (

    select
        tender_id,
        expert_id,
        employer_id,
        evaluated_on
    from panel_employers
    where employer_bid

),

-- every changed lot: its employed experts, or one placeholder row (a tombstone's is dropped)
final as (

    select
        changed.tender_id,
        changed.input_fingerprint,
        employed.expert_id,
        employed.employer_id,
        employed.evaluated_on
    from changed
    left join employed on changed.tender_id = employed.tender_id

)

select * from final
