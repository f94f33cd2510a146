-- grain: one row per sampling plan (抽查事项清单)
-- Public list of the sampling matters: what is inspected, how objects are weighted and
-- how often. No personal data.
with sampling_plan as (

    select * from {{ ref('sampling_plan') }}

),

final as (

    select
        plan_id,
        matter,
        case object_type
            when 'tender' then '交易项目（标段）'
            when 'entity' then '市场主体'
            when 'agency' then '招标代理机构'
        end as object_type_zh,
        legal_basis,
        case period when 'monthly' then '每月' when 'quarterly' then '每季度' end as frequency_zh,
        base_ratio,
        concat_ws('/', risk_mult_high, risk_mult_medium, risk_mult_low) as risk_multipliers_high_medium_low,
        concat_ws('/', credit_mult_a, credit_mult_b, credit_mult_c, credit_mult_d) as credit_multipliers_a_b_c_d,
        coalesce(nullif(strata, ''), '不分层') as strata,
        min_per_stratum,
        max_per_stratum,
        case when joint then '是' else '否' end as joint_zh,
        case when avoid_local_office then '是' else '否' end as avoid_local_office_zh,
        inspectors_per_object,
        publish_workdays
    from sampling_plan
    where active

)

select * from final
