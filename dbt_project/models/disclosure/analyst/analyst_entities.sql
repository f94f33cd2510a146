-- grain: one row per market entity; analyst view of stg_trading_centre__entities with personal data masked
{{ config(alias='entities') }}

with entities as (

    select * from {{ ref('stg_trading_centre__entities') }}

),

final as (

    select
        entity_id,
        entity_name,
        entity_role,
        {{ mask_name('legal_rep_name') }} as legal_rep_name,
        {{ mask_id_no('legal_rep_id_no') }} as legal_rep_id_no,
        {{ mask_name('contact_name') }} as contact_name,
        {{ mask_phone('contact_phone') }} as contact_phone,
        address,
        region_code,
        registered_capital,
        established_on,
        updated_at,
        batch_date
    from entities

)

select * from final
