-- grain: one row per entity_id x valid_from (a taxpayer version with the interval it held)
{# A version holds from its updated_at up to the next version's updated_at (open-ended for
   the newest). "Status on the date of the act" is the version whose interval contains the
   act's timestamp: `status_during @> awarded_at`. Before an entity's first version its
   status is unknown, and no rule judges it. #}
with versions as (

    select * from {{ ref('stg_tax__taxpayer_versions') }}

),

final as (

    select
        entity_id,
        taxpayer_status,
        credit_rating,
        rating_year,
        tax_paid_last_year,
        insured_employees,
        updated_at as valid_from,
        lead(updated_at) over (partition by entity_id order by updated_at) as valid_to,
        tstzrange(
            updated_at, lead(updated_at) over (partition by entity_id order by updated_at), '[)'
        ) as status_during,
        coalesce(taxpayer_status = 'abnormal' or credit_rating = 'D', false) as is_tax_untrustworthy
    from versions

)

select * from final
