-- grain: one row per party on the key-watch list (重点关注对象名单): party_type x party_id
-- A market entity or an evaluation expert is listed when a department verified a risk
-- signal about it (verified or transferred alert), or when its risk signals recur: signals
-- (not dismissed) in at least var key_watch_min_lots different lots.
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
        'entity' as party_type,
        e.party_id,
        signals.signal_id,
        signals.rule_id,
        signals.tender_id,
        signals.signal_date
    from signals
    cross join lateral unnest(signals.entity_ids) as e (party_id)

    union all

    select
        'expert' as party_type,
        x.party_id,
        signals.signal_id,
        signals.rule_id,
        signals.tender_id,
        signals.signal_date
    from signals
    cross join lateral unnest(signals.expert_ids) as x (party_id)

),

with_outcomes as (

    select
        involvements.*,
        case when alerts.status in ('verified', 'transferred', 'dismissed') then alerts.status end as alert_status
    from involvements
    left join alerts on involvements.signal_id = alerts.alert_id

),

parties as (

    select
        party_type,
        party_id,
        count(*) filter (where alert_status in ('verified', 'transferred')) as n_verified_alerts,
        count(distinct coalesce(tender_id, signal_id)) filter (where alert_status is distinct from 'dismissed')
            as n_lots_with_signals,
        array_agg(distinct rule_id order by rule_id) filter (where alert_status is distinct from 'dismissed')
            as rule_ids,
        min(signal_date) as first_signal_date,
        max(signal_date) as last_signal_date
    from with_outcomes
    group by party_type, party_id

),

final as (

    select
        parties.party_type,
        parties.party_id,
        case when parties.party_type = 'entity' then entities.entity_name end as party_name,
        array_remove(array[
            case when parties.n_verified_alerts > 0 then 'verified' end,
            case when parties.n_lots_with_signals >= {{ var('key_watch_min_lots', 3) }} then 'repeated' end
        ], null) as reasons,
        parties.n_verified_alerts,
        parties.n_lots_with_signals,
        parties.rule_ids,
        parties.first_signal_date,
        parties.last_signal_date,
        {{ as_of_date() }} as as_of_date
    from parties
    left join entities on parties.party_type = 'entity' and parties.party_id = entities.entity_id
    where
        parties.n_verified_alerts > 0
        or parties.n_lots_with_signals >= {{ var('key_watch_min_lots', 3) }}

)

select * from final
