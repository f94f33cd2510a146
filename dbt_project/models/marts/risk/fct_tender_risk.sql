-- grain: one row per tender (lot, 标段)
-- Composite risk of a lot: the sum over its evidence of effective weight (configured weight x
-- outcome multiplier, dim_risk_rules) x score. Evidence = the rules' signals, except that the
-- statistical screens (ps_price_screen, net_cobid_ring, net_rotation) count for every lot with
-- their continuous strength, whether or not they reached their alert threshold: the ranking
-- reads how strong the evidence is, the alert list only where it is strong enough. A signal
-- whose alert was dismissed contributes nothing (macros/alert_outcomes.sql). explanation lists
-- each contribution, largest first (fired = whether it is a signal); rule_ids and n_signals
-- count the signals only. Lots with a participant on the key-watch list are tagged for tracking.
{#- work_mem: the lots' contributions (750 k rows at scale 16) sort in memory instead of on disk #}
{{ config(
    pre_hook=["set local work_mem = '256MB'"],
    post_hook=[
        "{{ table_index(this, 'tender', 'tender_id', unique=true) }}",
        "analyze {{ this }}",
    ],
) }}

-- The inputs name the columns they give: a CTE read twice is materialised, and with select *
-- the network scores' wide rows (327 MB at scale 16) and the signals' evidence were written to
-- disk and read back (#18).
with lots as (

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

),

signals as (

    select
        signal_id,
        tender_id,
        rule_id,
        rule_name_zh,
        severity,
        effective_weight,
        score
    from {{ ref('fct_risk_signals') }}

),

alerts as (

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

bids as (

    select
        tender_id,
        bidder_id
    from {{ ref('int_bids_joined_to_lots') }}

),

price_screens as (

    select
        tender_id,
        screen_score
    from {{ ref('int_lot_price_screens') }}

),

network as (

    select
        tender_id,
        network_strength,
        rotation_score,
        cobid_score
    from {{ ref('int_lot_network_scores') }}

),

assignments as (

    select
        tender_id,
        supervising_department_code
    from {{ ref('int_tenders_assigned_to_departments') }}

),

rules as (

    select * from {{ ref('dim_risk_rules') }}

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
    left join price_screens on lots.tender_id = price_screens.tender_id
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

evidence as (

    select
        signals.signal_id,
        signals.tender_id,
        signals.rule_id,
        signals.rule_name_zh,
        signals.severity,
        signals.effective_weight,
        signals.score,
        true as fired
    from signals
    where signals.tender_id is not null and signals.rule_id not in ('ps_price_screen', 'net_cobid_ring', 'net_rotation')

    union all

    select
        signals.signal_id,
        screen_evidence.tender_id,
        screen_evidence.rule_id,
        rules.name_zh,
        rules.severity,
        rules.effective_weight,
        round(screen_evidence.score::numeric, 4) as score,
        signals.signal_id is not null as fired
    from screen_evidence
    inner join rules on screen_evidence.rule_id = rules.rule_id
    left join signals
        on screen_evidence.tender_id = signals.tender_id
        and screen_evidence.rule_id = signals.rule_id

),

contributions as (

    select
        evidence.tender_id,
        evidence.rule_id,
        evidence.rule_name_zh,
        evidence.severity,
        evidence.effective_weight,
        evidence.score,
        evidence.fired,
        {{ alert_outcome('alerts.status') }} as alert_status,
        {{ alert_weighted('evidence.effective_weight * evidence.score', 'alerts.status') }} as contribution
    from evidence
    left join alerts on evidence.signal_id = alerts.alert_id

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
watched_entities as (

    select party_id as entity_id
    from watch_list
    where party_type = 'entity'

),

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

final as (

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
        {{ as_of_date() }} as as_of_date
    from screened
    left join explained on screened.tender_id = explained.tender_id
    left join watched on screened.tender_id = watched.tender_id
    left join assignments on screened.tender_id = assignments.tender_id

)

select * from final
