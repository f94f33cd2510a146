-- grain: one row per drawn object (draw_id, object_type, object_id)
-- Public list of drawn objects with their inspection teams and published results
-- (联动执法结果). Inspectors appear as masked names with their department (张*（云南省财政厅）);
-- findings appear only once published.
with followup as (

    select * from {{ ref('fct_sampling_followup') }}

),

draw_inspectors as (

    select * from {{ source('sampling', 'draw_inspectors') }}

),

inspectors as (

    select * from {{ ref('inspectors') }}

),

departments as (

    select * from {{ ref('departments') }}

),

teams as (

    select
        di.draw_id,
        di.object_type,
        di.object_id,
        string_agg(
            left(i.name, 1) || '*（' || coalesce(d.name_zh, di.department_code) || '）',
            '、' order by di.slot
        ) as team
    from draw_inspectors as di
    left join inspectors as i on di.inspector_id = i.inspector_id
    left join departments as d on di.department_code = d.code
    group by di.draw_id, di.object_type, di.object_id

),

final as (

    select
        f.draw_id,
        f.matter,
        f.period,
        f.object_type,
        case f.object_type
            when 'tender' then '交易项目（标段）'
            when 'entity' then '市场主体'
            when 'agency' then '招标代理机构'
        end as object_type_zh,
        f.object_id,
        f.object_name,
        t.team as inspection_team,
        f.inspected_on,
        case when f.published_on is not null then
                case f.outcome
                    when 'no_issue' then '未发现问题'
                    when 'issue_found' then '发现问题'
                    when 'referred' then '移交处理'
                    when 'not_inspected' then '未检查'
                end
        end as outcome_zh,
        case when f.published_on is not null then f.finding end as finding,
        f.published_on
    from followup as f
    left join teams as t
        on f.draw_id = t.draw_id and f.object_type = t.object_type and f.object_id = t.object_id

)

select * from final
