-- grain: one row per inspection object (object_type, object_id)
-- 检查对象名录库, the pool of the 双随机一公开 draws (random inspection): market entities,
-- tender lots (标段) and agencies, with the strata the sampling plans use (category,
-- prefecture), the department responsible under the responsibility list, the current risk
-- level and the credit level.
-- Risk: from the risk marts (fct_tender_risk per lot, fct_entity_risk per entity; an
-- entity without any signal there has risk level 'none').
-- A view over dim_inspection_objects_undated (kept incremental by what changed, where the rows
-- are computed and tested), adding what moves with the analysis date, as_of_date, so that a
-- night does not rewrite every object's row for its new date (issue #18).
{{ config(materialized='view') }}

with objects as (

    select * from {{ ref('dim_inspection_objects_undated') }}

),

final as (

    -- the columns in the order the table had
    select
        object_type,
        object_id,
        object_name,
        entity_role,
        category,
        industry,
        region_code,
        prefecture_code,
        responsible_department_kind,
        related_entity_ids,
        risk_score,
        risk_level,
        risk_source,
        credit_level,
        credit_basis,
        {{ as_of_date() }} as as_of_date
    from objects

)

select * from final
