-- grain: one row per credit record (不良行为记录) in its publication period (不良行为公示)
-- The public face of marts.fct_bad_conduct_records: the departments' and the office's case
-- decisions with a penalty, with their score, published for publish_months of
-- reference.credit_scoring from the decision date and withdrawn earlier (撤销公示, see
-- disclosure_bad_conduct_withdrawals) once the subject's credit repair (信用修复) is recorded.
-- Experts are natural persons: name masked (张*), no id.
{{ config(alias='bad_conduct_notices') }}

with records as (

    select * from {{ ref('fct_bad_conduct_records') }}

),

final as (

    select
        decision_no as case_id,
        tender_id,
        subject_type,
        subject_type_zh,
        -- legal persons by their USCC; experts (natural persons) get no identifier
        case when subject_type = 'expert' then null else subject_id end as subject_id,
        subject_name,
        violation,
        violation_zh,
        severity_zh,
        penalty,
        decided_by,
        decided_by_name,
        decided_on,
        publish_until,
        as_of_date,
        record_id,
        score
    from records
    where notice_status = 'published'

)

select * from final
