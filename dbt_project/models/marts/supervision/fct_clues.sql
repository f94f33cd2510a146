-- grain: one row per problem clue (问题线索)
-- The clue register for leaders: where each clue came from, who verifies it (lead and joint
-- departments, 联合核查), to whom it was transferred (移送) with receipt and outcome, the
-- decision, and the deadline of the stage it is in (fct_clue_handling has every stage).
{{ config(materialized='view') }}

with clues as (

    select * from {{ source('supervision', 'clues') }}

),

clue_departments as (

    select * from {{ source('supervision', 'clue_departments') }}

),

transfers as (

    select * from {{ source('supervision', 'clue_transfers') }}

),

decisions as (

    select * from {{ source('supervision', 'case_decisions') }}

),

stages as (

    select * from {{ ref('int_supervision_stages') }}
    where object_type = 'clue'

),

departments as (

    select * from {{ ref('departments') }}

),

assigned as (

    select
        clue_departments.clue_id,
        max(clue_departments.department_code) filter (where clue_departments.role = 'lead') as lead_department_code,
        max(departments.name_zh) filter (where clue_departments.role = 'lead') as lead_department_name,
        string_agg(departments.name_zh, '、' order by clue_departments.department_code)
        filter (where clue_departments.role = 'joint') as joint_department_names,
        count(*) as n_departments,
        count(clue_departments.finding) as n_findings
    from clue_departments
    left join departments on clue_departments.department_code = departments.code
    group by clue_departments.clue_id

),

transferred as (

    select
        clue_id,
        string_agg(
            case target
                when 'discipline_inspection' then '纪检监察机关'
                when 'police' then '公安机关'
                when 'procuratorate' then '检察机关'
                when 'court' then '人民法院'
            end,
            '、' order by target
        ) as transfer_targets_zh,
        count(*) as n_transfers,
        count(receipt_at) as n_receipts,
        count(outcome_at) as n_outcomes,
        min(transferred_at) as first_transferred_at
    from transfers
    group by clue_id

),

decided as (

    select
        clue_id,
        string_agg(decision_id, '、' order by decision_id) as decision_ids,
        count(*) as n_decisions
    from decisions
    where clue_id is not null
    group by clue_id

),

open_stage as (

    select distinct on (object_id)
        object_id as clue_id,
        stage,
        stage_zh,
        due_date,
        stage_status
    from stages
    where not is_done
    order by object_id asc, start_at desc

),

final as (

    select
        clues.clue_id,
        clues.source_type,
        case clues.source_type
            when 'alert' then '风险预警'
            when 'complaint' then '投诉举报（属实）'
            when 'sampling' then '双随机一公开检查'
            when 'special_inspection' then '专项检查'
        end as source_type_zh,
        clues.source_id,
        clues.title,
        clues.tender_id,
        clues.entity_ids,
        clues.legal_basis,
        clues.status,
        case clues.status
            when 'registered' then '已登记'
            when 'verifying' then '核查中'
            when 'confirmed' then '已查实'
            when 'unfounded' then '查无实据'
            when 'transferred' then '已移送'
            when 'decided' then '已处理'
            when 'concluded' then '已办结'
        end as status_zh,
        clues.registered_at,
        {{ local_date('clues.registered_at') }} as registered_date,
        clues.registered_by,
        clues.status_changed_at,
        clues.status_changed_by,
        assigned.lead_department_code,
        assigned.lead_department_name,
        left(assigned.lead_department_code, 6) as lead_region_code,
        assigned.joint_department_names,
        coalesce(assigned.n_departments, 0) as n_departments,
        coalesce(assigned.n_departments, 0) > 1 as is_joint_verification,
        coalesce(assigned.n_findings, 0) as n_findings,
        transferred.transfer_targets_zh,
        coalesce(transferred.n_transfers, 0) as n_transfers,
        coalesce(transferred.n_receipts, 0) as n_receipts,
        coalesce(transferred.n_outcomes, 0) as n_outcomes,
        transferred.first_transferred_at,
        decided.decision_ids,
        coalesce(decided.n_decisions, 0) as n_decisions,
        open_stage.stage as open_stage,
        open_stage.stage_zh as open_stage_zh,
        open_stage.due_date as open_stage_due_date,
        coalesce(open_stage.stage_status = 'open_overdue', false) as is_overdue
    from clues
    left join assigned on clues.clue_id = assigned.clue_id
    left join transferred on clues.clue_id = transferred.clue_id
    left join decided on clues.clue_id = decided.clue_id
    left join open_stage on clues.clue_id = open_stage.clue_id

)

select * from final
