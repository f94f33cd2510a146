-- grain: one row per handled violation (处理决定) with a penalty, in its publication period (不良行为公示)
-- Publication period (公示期), from the decision date:
--   serious violations (串通投标 collusion, 弄虚作假 fraud, 行贿 bribery): var bad_conduct_serious_months, default 36;
--   other violations (评标专家违规 expert_misconduct, other):               var bad_conduct_minor_months, default 6.
-- A notice is withdrawn earlier (撤销公示) when the subject's credit repair (信用修复) is
-- recorded: a Credit China record of the subject revoked on or after the decision date
-- and on or before the analysis date. Experts are natural persons: name masked (张*), no id.
{{ config(alias='bad_conduct_notices') }}

{%- set serious_months = var('bad_conduct_serious_months', 36) -%}
{%- set minor_months = var('bad_conduct_minor_months', 6) %}

with cases as (

    select * from {{ ref('stg_trading_centre__cases') }}

),

entities as (

    select * from {{ ref('stg_trading_centre__entities') }}

),

experts as (

    select * from {{ ref('stg_trading_centre__experts') }}

),

records as (

    select * from {{ ref('stg_credit_china__records') }}

),

departments as (

    select * from {{ ref('departments') }}

),

decided as (

    select
        cases.*,
        {{ local_date('cases.decided_at') }} as decided_on,
        cases.violation in ('collusion', 'fraud', 'bribery') as is_serious
    from cases
    where
        cases.penalty is not null
        and cases.decided_at is not null
        and {{ local_date('cases.decided_at') }} <= {{ as_of_date() }}

),

periods as (

    select
        decided.*,
        (
            decided.decided_on
            + case when decided.is_serious then {{ serious_months }} else {{ minor_months }} end
            * interval '1 month'
        )::date as publish_until,
        (
            select min(records.revoked_on)
            from records
            where
                records.entity_id = decided.subject_id
                and records.revoked_on >= decided.decided_on
                and records.revoked_on <= {{ as_of_date() }}
        ) as credit_repaired_on
    from decided

),

final as (

    select
        periods.case_id,
        periods.tender_id,
        periods.subject_type,
        case periods.subject_type
            when 'bidder' then '投标人'
            when 'tenderer' then '招标人'
            when 'agency' then '招标代理机构'
            when 'expert' then '评标专家'
        end as subject_type_zh,
        -- legal persons by their USCC; experts (natural persons) get no identifier
        case when periods.subject_type = 'expert' then null else periods.subject_id end as subject_id,
        case
            when periods.subject_type = 'expert' then {{ mask_name('experts.expert_name') }}
            else entities.entity_name
        end as subject_name,
        periods.violation,
        case periods.violation
            when 'collusion' then '串通投标'
            when 'fraud' then '弄虚作假'
            when 'bribery' then '行贿'
            when 'expert_misconduct' then '评标专家违规'
            else '其他违法违规行为'
        end as violation_zh,
        case when periods.is_serious then '严重' else '一般' end as severity_zh,
        periods.penalty,
        periods.decided_by,
        departments.name_zh as decided_by_name,
        periods.decided_on,
        periods.publish_until,
        {{ as_of_date() }} as as_of_date
    from periods
    left join entities
        on periods.subject_type <> 'expert' and periods.subject_id = entities.entity_id
    left join experts
        on periods.subject_type = 'expert' and periods.subject_id = experts.expert_id
    left join departments on periods.decided_by = departments.code
    where
        periods.publish_until > {{ as_of_date() }}
        and periods.credit_repaired_on is null

)

select * from final
