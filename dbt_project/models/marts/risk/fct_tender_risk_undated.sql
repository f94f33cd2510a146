-- grain: one row per tender (lot, 标段): the rows of fct_tender_risk without as_of_date
-- (added by that view), so that a row changes only when the lot's evidence does.
-- Composite risk of a lot: the sum over its evidence of effective weight (configured weight x
-- outcome multiplier, dim_risk_rules) x score. Evidence = the rules' signals, except that the
-- statistical screens (ps_price_screen, net_cobid_ring, net_rotation) count for every lot with
-- their continuous strength, whether or not they reached their alert threshold: the ranking
-- reads how strong the evidence is, the alert list only where it is strong enough. A signal
-- whose alert was dismissed contributes nothing (macros/alert_outcomes.sql). explanation lists
-- each contribution, largest first (fired = whether it is a signal); rule_ids and n_signals
-- count the signals only. Lots with a participant on the key-watch list are tagged for tracking.
-- Incremental by what changed, the fingerprint being the row itself (macros/rows_changed.sql): a
-- night computes the rows of the candidate lots only and writes those that differ from the kept
-- ones (and removes those of lots gone). The candidates: the lots its per-lot parents logged
-- since its last build (summary, price screen, network, department, bids: macros/change_log.sql);
-- those whose signals, with their rules' weights and their alerts' outcomes, no longer give the
-- kept signals_fingerprint (fct_risk_signals is rebuilt whole each night: one pass over it); and
-- the lots of the entities that joined or left the key-watch list since (today's list against
-- the entities the kept rows name). Every lot after a parent or this model was rebuilt whole, a
-- change of its code or vars, or of the screen rules' names, severities or weights (the context
-- of every fingerprint). Computing every lot's row was the scale-16 night's 16 s (issue #18).
{#- work_mem: on a full build, the lots' contributions (750 k rows at scale 16) sort in memory
    instead of on disk; nested loops off: a night's candidates, read by index, are joined by hash
    (their number is not known when the plan is made: a nested loop compared every candidate with
    every other) -#}
{%- set salt = "'" ~ var('risk_high_score', 10) ~ "/" ~ var('risk_medium_score', 4) ~ "'" %}
{%- set screen_rules = ['ps_price_screen', 'net_cobid_ring', 'net_rotation'] %}
{%- set screen_rules_sql = "('" ~ screen_rules | join("', '") ~ "')" %}
{#- What every lot's row shares: the screen rules as they weigh every lot's strengths. -#}
{%- set context_sql -%}
select md5((
    select string_agg(row(rule_id, name_zh, severity, effective_weight)::text, '/' order by rule_id)
    from {{ ref('dim_risk_rules') }}
    where rule_id in {{ screen_rules_sql }}
))
{%- endset %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='tender_id',
    on_schema_change='fail',
    fingerprint_salt=salt,
    pre_hook=["set local work_mem = '256MB'", "set local enable_nestloop = off"],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'tender', 'tender_id', unique=true) }}",
    ],
) }}

{%- set logged = changed_keys_since_last_build([
    'int_lots_summarised', 'int_lots_price_screened', 'int_lot_network_scores',
    'int_tenders_assigned_to_departments', 'int_bids_joined_to_lots',
]) %}
{%- set candidates = 'select key_value from candidate_lots'
    if logged is not none and not changed_context(context_sql) else none %}

-- The inputs name the columns they give: a CTE read twice is materialised, and with select *
-- the network scores' wide rows (327 MB at scale 16) and the signals' evidence were written to
-- disk and read back (#18).
with signals as not materialized (

    select
        signal_id,
        tender_id,
        rule_id,
        rule_name_zh,
        severity,
        effective_weight,
        score
    from {{ ref('fct_risk_signals') }}
    where tender_id is not null

),

alerts as not materialized (

    select
        alert_id,
        status
    from {{ source('alerts', 'alerts') }}

),

watch_list as (

    select
        party_type,
        party_id
    from {{ ref('fct_key_watch_list') }}

),

rules as (

    select * from {{ ref('dim_risk_rules') }}

),

-- every lot's signals with their alerts' outcomes (a dismissed alert's signal counts 0)
judged_signals as not materialized (

    select
        signals.*,
        {{ alert_outcome('alerts.status') }} as alert_status
    from signals
    left join alerts on signals.signal_id = alerts.alert_id

),

-- what a lot's signals give its row: their rules' names, severities and weights, their scores and
-- outcomes (a lot without a signal has none)
signals_fingerprints as (

    {{ input_fingerprints(
        'judged_signals', 'tender_id',
        ['signal_id', 'rule_id', 'rule_name_zh', 'severity', 'effective_weight', 'score', 'alert_status'],
    ) }}

),

watched_entities as (

    select party_id as entity_id
    from watch_list
    where party_type = 'entity'

),
{%- if candidates is not none %}

-- the kept rows' signals and watched participants, in one pass over the table
kept as materialized (

    select
        tender_id,
        signals_fingerprint,
        watched_entity_ids
    from {{ this }}
    where signals_fingerprint is not null or has_watched_participant

),

-- the entities the kept rows name as watched participants: the key-watch list when they were
-- computed, bar the listed entities with no lot
kept_watched as (

    select distinct unnest(watched_entity_ids) as entity_id
    from kept

),

-- the entities that joined or left the key-watch list since the kept rows were computed (an
-- entity listed with no lot comes back every night and names none)
watch_changes as (

    select coalesce(watched_entities.entity_id, kept_watched.entity_id) as entity_id
    from watched_entities
    full join kept_watched on watched_entities.entity_id = kept_watched.entity_id
    where watched_entities.entity_id is null or kept_watched.entity_id is null

),

candidate_lots as materialized (

    {{ logged }}

    union

    -- the lots whose signals changed
    select coalesce(kept_signals.tender_id, signals_fingerprints.tender_id)
    from (
        select * from kept
        where signals_fingerprint is not null
    ) as kept_signals
    full join signals_fingerprints on kept_signals.tender_id = signals_fingerprints.tender_id
    where kept_signals.signals_fingerprint is distinct from signals_fingerprints.input_fingerprint

    union

    -- the lots of the entities that joined or left the list, as a bidder, tenderer or agency
    select tender_id
    from {{ ref('int_bids_joined_to_lots') }}
    where bidder_id = any(array(select watch_changes.entity_id from watch_changes))

    union

    select tender_id
    from {{ ref('int_lots_summarised') }}
    where
        tenderer_id = any(array(select watch_changes.entity_id from watch_changes))
        or agency_id = any(array(select watch_changes.entity_id from watch_changes))

),
{%- endif %}

-- the lots to compute (on a night, the candidates, read by index)
lots as (

    select
        tender_id,
        project_code,
        category,
        industry,
        region_code,
        prefecture_code,
        tenderer_id,
        agency_id,
        procurement_method,
        lot_date,
        n_bidders,
        n_valid_bids,
        winner_id,
        award_price
    from {{ ref('int_lots_summarised') }}
    {{- where_candidates(candidates) }}

),

lot_signals as (

    select *
    from judged_signals
    {{- where_candidates(candidates) }}

),

bids as (

    select
        tender_id,
        bidder_id
    from {{ ref('int_bids_joined_to_lots') }}
    {{- where_candidates(candidates) }}

),

-- the lot's screen_score (int_lot_price_screens carries it for the lots with 3 or more bids: n_bids)
price_screens as (

    select
        tender_id,
        n_bids,
        screen_score
    from {{ ref('int_lots_price_screened') }}
    {{- where_candidates(candidates) }}

),

network as (

    select
        tender_id,
        network_strength,
        rotation_score,
        cobid_score
    from {{ ref('int_lot_network_scores') }}
    {{- where_candidates(candidates) }}

),

assignments as (

    select
        tender_id,
        supervising_department_code
    from {{ ref('int_tenders_assigned_to_departments') }}
    {{- where_candidates(candidates) }}

),

-- each lot with its screens' scores, joined once for the evidence and the final row
screened as (

    select
        lots.*,
        price_screens.screen_score,
        network.network_strength,
        network.rotation_score,
        network.cobid_score
    from lots
    left join price_screens on lots.tender_id = price_screens.tender_id and price_screens.n_bids is not null
    left join network on lots.tender_id = network.tender_id

),

-- the screens' continuous strength per lot, 0..1 (the scores their signals carry)
screen_evidence as (

    select
        screened.tender_id,
        e.rule_id,
        e.score
    from screened
    cross join
        lateral (
            values
            ('ps_price_screen', screened.screen_score),
            ('net_cobid_ring', screened.network_strength),
            ('net_rotation', screened.rotation_score)
        ) as e (rule_id, score)
    where e.score > 0

),

contributions as (

    select
        tender_id,
        rule_id,
        rule_name_zh,
        severity,
        effective_weight,
        score,
        true as fired,
        alert_status,
        {{ alert_weighted('effective_weight * score', 'alert_status') }} as contribution
    from lot_signals
    where rule_id not in {{ screen_rules_sql }}

    union all

    select
        screen_evidence.tender_id,
        screen_evidence.rule_id,
        rules.name_zh,
        rules.severity,
        rules.effective_weight,
        round(screen_evidence.score::numeric, 4) as score,
        lot_signals.signal_id is not null as fired,
        lot_signals.alert_status,
        {{ alert_weighted('rules.effective_weight * round(screen_evidence.score::numeric, 4)', 'lot_signals.alert_status') }}
            as contribution
    from screen_evidence
    inner join rules on screen_evidence.rule_id = rules.rule_id
    left join lot_signals
        on screen_evidence.tender_id = lot_signals.tender_id
        and screen_evidence.rule_id = lot_signals.rule_id

),

explained as (

    select
        tender_id,
        count(*) filter (where fired) as n_signals,
        count(*) filter (where fired and severity = 'high') as n_high_severity,
        sum(contribution) as risk_score,
        coalesce(array_agg(rule_id order by contribution desc, rule_id asc) filter (where fired), array[]::text[])
            as rule_ids,
        jsonb_agg(
            jsonb_build_object(
                'rule_id', rule_id, 'rule_name_zh', rule_name_zh, 'severity', severity,
                'weight', round(effective_weight, 3), 'score', score, 'alert_status', alert_status,
                'fired', fired, 'contribution', round(contribution, 3)
            ) order by contribution desc, rule_id asc
        ) as explanation,
        -- for readers of the dashboards: the rules' Chinese names (ids are in rule_ids)
        string_agg(rule_name_zh || ' ' || round(contribution, 2), ' + ' order by contribution desc, rule_id asc)
            as explanation_text
    from contributions
    group by tender_id

),

-- the lots' participants on the key-watch list (each feed's rows matched to the list first: a
-- union of every lot's 2.7 M participants, sorted to drop its duplicates, was most of the
-- model's time at scale 16)
watched_participants as (

    select
        tender_id,
        bidder_id as entity_id
    from bids
    where bidder_id in (select watched_entities.entity_id from watched_entities)
    union
    select
        tender_id,
        tenderer_id
    from lots
    where tenderer_id in (select watched_entities.entity_id from watched_entities)
    union
    select
        tender_id,
        agency_id
    from lots
    where agency_id in (select watched_entities.entity_id from watched_entities)

),

watched as (

    select
        tender_id,
        array_agg(entity_id order by entity_id) as watched_entity_ids
    from watched_participants
    group by tender_id

),

scored as (

    select
        screened.tender_id,
        screened.project_code,
        screened.category,
        screened.industry,
        screened.region_code,
        screened.prefecture_code,
        screened.tenderer_id,
        screened.procurement_method,
        screened.lot_date,
        screened.n_bidders,
        screened.n_valid_bids,
        screened.winner_id,
        screened.award_price,
        assignments.supervising_department_code as department_code,
        coalesce(explained.n_signals, 0) as n_signals,
        coalesce(explained.n_high_severity, 0) as n_high_severity,
        round(coalesce(explained.risk_score, 0), 4) as risk_score,
        -- the screens' strengths alone (at most 2 + 3 + 3 = 8 by the default weights) make a
        -- lot medium at most, and only with strong network evidence; a lot without any signal
        -- and below medium is 'none'
        case
            when coalesce(explained.risk_score, 0) >= {{ var('risk_high_score', 10) }} then 'high'
            when coalesce(explained.risk_score, 0) >= {{ var('risk_medium_score', 4) }} then 'medium'
            when coalesce(explained.n_signals, 0) > 0 then 'low'
            else 'none'
        end as risk_level,
        coalesce(explained.rule_ids, array[]::text[]) as rule_ids,
        coalesce(explained.explanation, '[]'::jsonb) as explanation,
        explained.explanation_text,
        round(screened.screen_score::numeric, 4) as price_screen_score,
        round(screened.cobid_score::numeric, 4) as cobid_score,
        round(screened.rotation_score::numeric, 4) as rotation_score,
        watched.tender_id is not null as has_watched_participant,
        coalesce(watched.watched_entity_ids, array[]::text[]) as watched_entity_ids,
        signals_fingerprints.input_fingerprint as signals_fingerprint
    from screened
    left join explained on screened.tender_id = explained.tender_id
    left join watched on screened.tender_id = watched.tender_id
    left join assignments on screened.tender_id = assignments.tender_id
    left join signals_fingerprints on screened.tender_id = signals_fingerprints.tender_id

),

final as (

    {{ rows_changed('scored', ref('int_lots_summarised'), 'tender_id', candidates, context=context_sql) }}

)

-- (the columns of `scored`, with the fingerprint: the linter cannot count them through the macro)
select * from final  -- noqa: AM04
