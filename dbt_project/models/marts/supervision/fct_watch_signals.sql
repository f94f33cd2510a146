-- grain: one row per tracking rule x lot (rule_id, tender_id), same columns as fct_risk_signals
-- Tracking mode (跟踪模式): a lot announced on or after its watch_from in which an entity or
-- expert on the office's watch list (ops.watch_list) takes part, or of a key project; and
-- every lot evaluated and awarded separately (评定分离, Xuan'en 二（五）: key supervision).
-- ggzy.alerts syncs these with the risk signals into ops.alerts, so they are routed to the
-- supervising department, notified and handled like any alert.
{{ config(
    post_hook=[
        "{{ table_index(this, 'id', 'signal_id', unique=true) }}",
        "analyze {{ this }}",
    ],
) }}

with watch_list as (

    select * from {{ source('supervision', 'watch_list') }}
    where is_active

),

tenders as (

    select * from {{ ref('stg_trading_centre__tenders') }}

),

bids as (

    select * from {{ ref('stg_trading_centre__bids') }}

),

evaluations as (

    select * from {{ ref('stg_trading_centre__evaluations') }}

),

assignments as (

    select * from {{ ref('int_tenders_assigned_to_departments') }}

),

rules as (

    select * from {{ ref('tracking_rules') }}

),

lots as (

    select
        tenders.*,
        {{ local_date('tenders.announced_at') }} as lot_date
    from tenders
    where {{ local_date('tenders.announced_at') }} <= {{ as_of_date() }}

),

participants as (

    select
        lots.tender_id,
        lots.lot_date,
        p.entity_id,
        p.party_role
    from lots
    cross join
        lateral (
            values (lots.tenderer_id, 'tenderer'), (lots.agency_id, 'agency')
        ) as p (entity_id, party_role)
    where p.entity_id is not null

    union

    select
        lots.tender_id,
        lots.lot_date,
        bids.bidder_id as entity_id,
        'bidder' as party_role
    from lots
    inner join bids on lots.tender_id = bids.tender_id

),

hits as (

    select
        'wt_watched_entity' as rule_id,
        participants.tender_id,
        min(participants.lot_date) as lot_date,
        array_agg(distinct participants.entity_id order by participants.entity_id) as entity_ids,
        array[]::text[] as expert_ids,
        jsonb_agg(distinct jsonb_build_object(
            'party_id', participants.entity_id, 'role', participants.party_role,
            'reason', watch_list.reason, 'watch_from', watch_list.watch_from
        )) as evidence
    from participants
    inner join watch_list
        on
        watch_list.party_type = 'entity'
        and participants.entity_id = watch_list.party_id
        and participants.lot_date >= watch_list.watch_from
    group by participants.tender_id

    union all

    select
        'wt_watched_expert' as rule_id,
        lots.tender_id,
        min(lots.lot_date) as lot_date,
        array[]::text[] as entity_ids,
        array_agg(distinct evaluations.expert_id order by evaluations.expert_id) as expert_ids,
        jsonb_agg(distinct jsonb_build_object(
            'party_id', evaluations.expert_id, 'reason', watch_list.reason, 'watch_from', watch_list.watch_from
        )) as evidence
    from lots
    inner join evaluations on lots.tender_id = evaluations.tender_id
    inner join watch_list
        on
        watch_list.party_type = 'expert'
        and evaluations.expert_id = watch_list.party_id
        and lots.lot_date >= watch_list.watch_from
    group by lots.tender_id

    union all

    select
        'wt_key_project' as rule_id,
        lots.tender_id,
        lots.lot_date,
        array[]::text[] as entity_ids,
        array[]::text[] as expert_ids,
        jsonb_build_object(
            'project_code', lots.project_code, 'reason', watch_list.reason, 'watch_from', watch_list.watch_from
        ) as evidence
    from lots
    inner join watch_list
        on
        watch_list.party_type = 'project'
        and lots.project_code = watch_list.party_id
        and lots.lot_date >= watch_list.watch_from

    union all

    select
        'wt_evaluation_separated' as rule_id,
        lots.tender_id,
        lots.lot_date,
        array[]::text[] as entity_ids,
        array[]::text[] as expert_ids,
        jsonb_build_object('evaluation_separated', true, 'evaluation_method', lots.evaluation_method) as evidence
    from lots
    where lots.evaluation_separated

),

final as (

    select
        md5(hits.rule_id || '|tender|' || hits.tender_id) as signal_id,
        hits.rule_id,
        'tracking' as rule_group,
        rules.name_zh as rule_name_zh,
        'tender' as subject_type,
        hits.tender_id as subject_id,
        hits.tender_id,
        hits.entity_ids,
        hits.expert_ids,
        hits.lot_date as signal_date,
        rules.severity,
        null::numeric as score,
        hits.evidence,
        rules.legal_basis,
        assignments.supervising_department_code as department_code,
        {{ as_of_date() }} as as_of_date
    from hits
    inner join rules on hits.rule_id = rules.rule_id
    left join assignments on hits.tender_id = assignments.tender_id

)

select * from final
