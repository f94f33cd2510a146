-- grain: one row per market entity (entity_id, USCC) involved in at least one risk signal
-- Composite risk of an entity: the sum over the signals it is involved in of
-- effective weight (configured weight x outcome multiplier, dim_risk_rules) x signal score;
-- a signal whose alert was dismissed contributes nothing (macros/alert_outcomes.sql).
-- explanation lists what contributed.
with signals as (

    select * from {{ ref('fct_risk_signals') }}

),

alerts as (

    select * from {{ source('alerts', 'alerts') }}

),

entities as (

    select * from {{ ref('stg_trading_centre__entities') }}

),

involvements as (

    select
        e.entity_id,
        signals.signal_id,
        signals.rule_id,
        signals.rule_name_zh,
        signals.severity,
        signals.tender_id,
        signals.signal_date,
        signals.effective_weight,
        signals.score,
        {{ alert_outcome('alerts.status') }} as alert_status,
        {{ alert_weighted('signals.effective_weight * signals.score', 'alerts.status') }} as contribution
    from signals
    cross join lateral unnest(signals.entity_ids) as e (entity_id)
    left join alerts on signals.signal_id = alerts.alert_id

),

by_rule as (

    select
        entity_id,
        rule_id,
        min(rule_name_zh) as rule_name_zh,
        count(*) as n_signals,
        sum(contribution) as contribution
    from involvements
    group by entity_id, rule_id

),

explained as (

    select
        entity_id,
        jsonb_agg(
            jsonb_build_object(
                'rule_id', rule_id, 'rule_name_zh', rule_name_zh, 'n_signals', n_signals,
                'contribution', round(contribution, 3)
            ) order by contribution desc, rule_id asc
        ) as explanation,
        string_agg(
            rule_name_zh || ' ×' || n_signals || ' = ' || round(contribution, 2), '；'
            order by contribution desc, rule_id asc
        ) as explanation_text
    from by_rule
    group by entity_id

),

totals as (

    select
        entity_id,
        count(*) as n_signals,
        count(distinct tender_id) as n_lots,
        count(distinct rule_id) as n_rules,
        count(*) filter (where severity = 'high') as n_high_severity,
        count(*) filter (where {{ alert_is_upheld('alert_status') }}) as n_verified_alerts,
        count(*) filter (where {{ alert_is_dismissed('alert_status') }}) as n_dismissed_alerts,
        count(distinct tender_id) filter (where {{ alert_counts('alert_status') }}) as n_lots_not_dismissed,
        min(signal_date) as first_signal_date,
        max(signal_date) as last_signal_date,
        sum(contribution) as risk_score
    from involvements
    group by entity_id

),

final as (

    select
        totals.entity_id,
        entities.entity_name,
        entities.entity_role,
        entities.region_code,
        totals.n_signals,
        totals.n_lots,
        totals.n_rules,
        totals.n_high_severity,
        totals.n_verified_alerts,
        totals.n_dismissed_alerts,
        totals.n_lots_not_dismissed,
        totals.first_signal_date,
        totals.last_signal_date,
        round(totals.risk_score, 4) as risk_score,
        case
            when totals.risk_score >= {{ var('risk_high_score', 10) }} then 'high'
            when totals.risk_score >= {{ var('risk_medium_score', 4) }} then 'medium'
            when totals.risk_score > 0 then 'low'
            else 'none'
        end as risk_level,
        explained.explanation,
        explained.explanation_text
    from totals
    inner join explained on totals.entity_id = explained.entity_id
    left join entities on totals.entity_id = entities.entity_id

)

select * from final
