-- grain: one row per entity x link type x linked party; analyst view with natural persons masked
-- A linked company (USCC) is shown; a linked person (resident ID number) is masked.
{{ config(alias='entity_links') }}

with entity_links as (

    select * from {{ ref('stg_trading_centre__entity_links') }}

),

final as (

    select
        entity_id,
        link_type,
        {{ is_person_id('linked_id') }} as linked_is_person,
        case
            when {{ is_person_id('linked_id') }} then {{ mask_id_no('linked_id') }}
            else linked_id
        end as linked_id,
        case
            when {{ is_person_id('linked_id') }} or link_type <> 'shareholder' then {{ mask_name('linked_name') }}
            else linked_name
        end as linked_name,
        share_pct,
        updated_at,
        batch_date
    from entity_links

)

select * from final
