-- grain: one row per case decision with a penalty (不良行为记录): record_id
-- Credit records going out (Xuan'en 三（四）): every handled violation with a penalty — the
-- departments' decisions from the trading-centre cases feed and the office's own decisions
-- on confirmed clues (ops.case_decisions) — with its score from reference.credit_scoring,
-- its publication period (不良行为公示, publish_months of the same table) and its
-- withdrawal on credit repair (信用修复): a Credit China record of the subject revoked on or
-- after the decision, or a repair reported by the department (ops.credit_repairs).
-- Dated on notice_as_of = the later of as_of_date and the newest office record, so that a
-- decision or repair recorded today counts today and a rerun gives the same table.
{{ config(
    post_hook=[
        "{{ table_index(this, 'id', 'record_id', unique=true) }}",
        "analyze {{ this }}",
    ],
) }}

with cases as (

    select * from {{ ref('stg_trading_centre__cases') }}

),

office_decisions as (

    select * from {{ source('supervision', 'case_decisions') }}

),

repairs as (

    select * from {{ source('supervision', 'credit_repairs') }}

),

scoring as (

    select * from {{ ref('credit_scoring') }}

),

entities as (

    select * from {{ ref('stg_trading_centre__entities') }}

),

experts as (

    select * from {{ ref('stg_trading_centre__experts') }}

),

credit_records as (

    select * from {{ ref('stg_credit_china__records') }}

),

departments as (

    select * from {{ ref('departments') }}

),

as_of as (

    select
        {{ as_of_date() }} as as_of_date,
        greatest(
            {{ as_of_date() }},
            (select max({{ local_date('d.decided_at') }}) from office_decisions as d),
            (select max(r.repaired_on) from repairs as r)
        ) as notice_as_of

),

decisions as (

    select
        'CASE-' || cases.case_id as record_id,
        'trading_centre_case' as record_source,
        cases.case_id as decision_no,
        null::text as clue_id,
        cases.tender_id,
        cases.subject_type,
        cases.subject_id,
        cases.violation,
        cases.penalty,
        cases.decided_by,
        cases.decided_at
    from cases
    where cases.penalty is not null and cases.decided_at is not null

    union all

    select
        'DEC-' || office_decisions.decision_id as record_id,
        'office_decision' as record_source,
        office_decisions.decision_id as decision_no,
        office_decisions.clue_id,
        office_decisions.tender_id,
        office_decisions.subject_type,
        office_decisions.subject_id,
        office_decisions.violation,
        office_decisions.penalty,
        office_decisions.decided_by,
        office_decisions.decided_at
    from office_decisions

),

dated as (

    select
        decisions.*,
        {{ local_date('decisions.decided_at') }} as decided_on,
        scoring.violation_zh,
        scoring.score,
        scoring.publish_months,
        coalesce(scoring.repairable, false) as is_repairable,
        as_of.as_of_date,
        as_of.notice_as_of
    from decisions
    cross join as_of
    left join scoring on decisions.violation = scoring.violation
    where {{ local_date('decisions.decided_at') }} <= as_of.notice_as_of

),

-- the first Credit China revocation of the subject's records on or after the decision, per
-- record (record_id is unique: a case or an office decision). Joined, not looked up per
-- record: final reads it five times, and each read scanned all Credit China records again
-- (scale 16: 1,978 records x 5 x 4,480 rows, 8 s)
credit_china_repairs as (

    select
        dated.record_id,
        min(cr.revoked_on) as credit_china_repaired_on
    from dated
    inner join credit_records as cr
        on
        dated.subject_id = cr.entity_id
        and dated.decided_on <= cr.revoked_on
        and dated.notice_as_of >= cr.revoked_on
    group by dated.record_id

),

repaired as (

    select
        dated.*,
        (dated.decided_on + dated.publish_months * interval '1 month')::date as publish_until,
        credit_china_repairs.credit_china_repaired_on,
        repairs.repaired_on as office_repaired_on,
        repairs.approved_by as repair_approved_by,
        repairs.recorded_by as repair_recorded_by
    from dated
    left join credit_china_repairs on dated.record_id = credit_china_repairs.record_id
    left join repairs
        on
        dated.record_id = repairs.record_id
        and dated.notice_as_of >= repairs.repaired_on

),

final as (

    select
        repaired.record_id,
        repaired.record_source,
        repaired.decision_no,
        repaired.clue_id,
        repaired.tender_id,
        repaired.subject_type,
        case repaired.subject_type
            when 'bidder' then '投标人'
            when 'tenderer' then '招标人'
            when 'agency' then '招标代理机构'
            when 'expert' then '评标专家'
        end as subject_type_zh,
        repaired.subject_id,
        -- an expert is a natural person: masked here too, the marts are read by analysts
        case
            when repaired.subject_type = 'expert' then {{ mask_name('experts.expert_name') }}
            else entities.entity_name
        end as subject_name,
        repaired.violation,
        coalesce(repaired.violation_zh, '其他违法违规行为') as violation_zh,
        case when repaired.violation in ('collusion', 'fraud', 'bribery') then '严重' else '一般' end as severity_zh,
        repaired.score,
        repaired.penalty,
        repaired.decided_by,
        departments.name_zh as decided_by_name,
        repaired.decided_at,
        repaired.decided_on,
        repaired.publish_months,
        repaired.publish_until,
        repaired.is_repairable,
        least(repaired.credit_china_repaired_on, repaired.office_repaired_on) as credit_repaired_on,
        case
            when repaired.office_repaired_on is not null
                and repaired.office_repaired_on <= coalesce(repaired.credit_china_repaired_on, repaired.office_repaired_on)
                then 'department'
            when repaired.credit_china_repaired_on is not null then 'credit_china'
        end as repair_source,
        repaired.repair_approved_by,
        repaired.repair_recorded_by,
        case
            when least(repaired.credit_china_repaired_on, repaired.office_repaired_on) is not null
                and least(repaired.credit_china_repaired_on, repaired.office_repaired_on) < repaired.publish_until
                then 'withdrawn'
            when repaired.publish_until <= repaired.notice_as_of then 'expired'
            else 'published'
        end as notice_status,
        repaired.as_of_date,
        repaired.notice_as_of
    from repaired
    left join entities
        on repaired.subject_type <> 'expert' and repaired.subject_id = entities.entity_id
    left join experts
        on repaired.subject_type = 'expert' and repaired.subject_id = experts.expert_id
    left join departments on repaired.decided_by = departments.code

)

select * from final
