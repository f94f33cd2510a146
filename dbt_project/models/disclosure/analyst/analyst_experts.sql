-- grain: one row per evaluation expert; analyst view with the expert's name masked
{{ config(alias='experts') }}

with experts as (

    select * from {{ ref('stg_trading_centre__experts') }}

),

final as (

    select
        expert_id,
        {{ mask_name('expert_name') }} as expert_name,
        employer_id,
        specialty,
        region_code,
        updated_at,
        batch_date
    from experts

)

select * from final
