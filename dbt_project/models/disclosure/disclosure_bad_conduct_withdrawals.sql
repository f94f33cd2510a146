-- grain: one row per credit record whose public notice was withdrawn on credit repair (撤销公示)
-- Xuan'en 三（四）: after 信用修复 the notice is withdrawn from the 不良行为公示 column; the
-- withdrawal itself is announced, for as long as the notice would otherwise have run.
-- Experts are natural persons: name masked, no id.
{{ config(alias='bad_conduct_withdrawals') }}

with records as (

    select * from {{ ref('fct_bad_conduct_records') }}

),

final as (

    select
        record_id,
        decision_no as case_id,
        subject_type_zh,
        case when subject_type = 'expert' then null else subject_id end as subject_id,
        subject_name,
        violation_zh,
        decided_by_name,
        decided_on,
        credit_repaired_on as withdrawn_on,
        '信用修复' as withdrawal_reason_zh,
        as_of_date
    from records
    where
        notice_status = 'withdrawn'
        and publish_until > notice_as_of

)

select * from final
