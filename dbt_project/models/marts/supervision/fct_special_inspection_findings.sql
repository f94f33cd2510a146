-- grain: one row per special inspection x target x finding (a target without findings: one row, finding null)
-- Special inspections (专项检查) with their scope, departments, period, targets and findings,
-- and the problem clue each problem finding became.
{{ config(materialized='view') }}

with inspections as (

    select * from {{ source('supervision', 'special_inspections') }}

),

targets as (

    select * from {{ source('supervision', 'special_inspection_targets') }}

),

findings as (

    select * from {{ source('supervision', 'special_inspection_findings') }}

),

clues as (

    select * from {{ source('supervision', 'clues') }}
    where source_type = 'special_inspection'

),

departments as (

    select * from {{ ref('departments') }}

),

final as (

    select
        inspections.inspection_id,
        inspections.title,
        inspections.scope,
        inspections.lead_department as lead_department_code,
        lead.name_zh as lead_department_name,
        left(inspections.lead_department, 6) as lead_region_code,
        (
            select string_agg(d.name_zh, '、' order by d.code)
            from departments as d
            where d.code = any(inspections.departments)
        ) as department_names,
        inspections.period_start,
        inspections.period_end,
        inspections.created_by,
        targets.target_type,
        case targets.target_type
            when 'tender' then '标段'
            when 'entity' then '市场主体'
            when 'expert' then '评标专家'
            when 'project' then '项目'
        end as target_type_zh,
        targets.target_id,
        findings.finding_id,
        findings.found_on,
        findings.finding,
        findings.legal_basis,
        findings.is_problem,
        findings.recorded_by,
        clues.clue_id,
        clues.status as clue_status
    from inspections
    inner join targets on inspections.inspection_id = targets.inspection_id
    left join findings
        on
        targets.inspection_id = findings.inspection_id
        and targets.target_type = findings.target_type
        and targets.target_id = findings.target_id
    left join clues on findings.finding_id::text = clues.source_id
    left join departments as lead on inspections.lead_department = lead.code

)

select * from final
