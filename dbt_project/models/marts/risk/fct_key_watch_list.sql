-- grain: one row per party on the key-watch list (重点关注对象名单): party_type x party_id
-- A market entity or an evaluation expert is listed when a department verified a risk
-- signal about it (verified or transferred alert), or when its risk signals recur: signals
-- (not dismissed) in at least var key_watch_min_lots different lots. The office lists
-- projects, entities and experts itself (ops.watch_list, `ggzy watch add`: office_listed),
-- and every lot evaluated and awarded separately is under key supervision (评定分离,
-- Xuan'en 二（五）: party_type tender, evaluation_separated). Tracking alerts on new lots:
-- marts.fct_watch_signals.
-- The inputs name the columns they give: a CTE read twice is materialised whole (#18).
with signals as (

    select
        signal_id,
        rule_id,
        tender_id,
        signal_date,
        entity_ids,
        expert_ids
    from {{ ref('fct_risk_signals') }}

),

alerts as (

    select * from {{ source('alerts', 'alerts') }}

),

entities as (

    select * from {{ ref('stg_trading_centre__entities') }}

),

office_list as (

    select
        party_type,
        party_id,
        reason,
        watch_from,
        added_by
    from {{ source('supervision', 'watch_list') }}
    where is_active

),

tenders as (

    select
        tender_id,
        evaluation_separated
    from {{ ref('stg_trading_centre__tenders') }}

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
        {{ alert_outcome('alerts.status') }} as alert_status
    from involvements
    left join alerts on involvements.signal_id = alerts.alert_id

),

parties as (

    select
        party_type,
        party_id,
        count(*) filter (where {{ alert_is_upheld('alert_status') }}) as n_verified_alerts,
        count(distinct coalesce(tender_id, signal_id)) filter (where {{ alert_counts('alert_status') }})
            as n_lots_with_signals,
        array_agg(distinct rule_id order by rule_id) filter (where {{ alert_counts('alert_status') }})
            as rule_ids,
        min(signal_date) as first_signal_date,
        max(signal_date) as last_signal_date
    from with_outcomes
    group by party_type, party_id

),

listed as (

    select
        party_type,
        party_id
    from parties
    where
        n_verified_alerts > 0
        or n_lots_with_signals >= {{ var('key_watch_min_lots', 3) }}
    union
    select
        party_type,
        party_id
    from office_list
    union
    select
        'tender' as party_type,
        tender_id as party_id
    from tenders
    where evaluation_separated

),

final as (

    select
        listed.party_type,
        listed.party_id,
        case when listed.party_type = 'entity' then entities.entity_name end as party_name,
        array_remove(array[
            case when parties.n_verified_alerts > 0 then 'verified' end,
            case when parties.n_lots_with_signals >= {{ var('key_watch_min_lots', 3) }} then 'repeated' end,
            case when office_list.party_id is not null then 'office_listed' end,
            case when tenders.evaluation_separated then 'evaluation_separated' end
        ], null) as reasons,
        coalesce(parties.n_verified_alerts, 0) as n_verified_alerts,
        coalesce(parties.n_lots_with_signals, 0) as n_lots_with_signals,
        parties.rule_ids,
        parties.first_signal_date,
        parties.last_signal_date,
        office_list.reason as office_reason,
        office_list.watch_from,
        office_list.added_by as listed_by,
        {{ as_of_date() }} as as_of_date
    from listed
    left join parties
        on listed.party_type = parties.party_type and listed.party_id = parties.party_id
    left join office_list
        on listed.party_type = office_list.party_type and listed.party_id = office_list.party_id
    left join tenders
        on listed.party_type = 'tender' and listed.party_id = tenders.tender_id
    left join entities on listed.party_type = 'entity' and listed.party_id = entities.entity_id

)

select * from final
