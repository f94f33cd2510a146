-- grain: one row per Credit China red-list record (守信红名单) in force on the analysis date
-- Anyang (二十)：发布守信"红名单". Published only while in force (effective_from <= as_of,
-- not expired, not revoked) and while the entity is on no blacklist in force and has no
-- bad-conduct notice in its publication period: a red list never praises a party the same
-- page names for a violation.
{{ config(alias='red_list') }}

with records as (

    select * from {{ ref('stg_credit_china__records') }}

),

entities as (

    select * from {{ ref('stg_trading_centre__entities') }}

),

bad_conduct as (

    select * from {{ ref('fct_bad_conduct_records') }}

),

in_force as (

    select records.*
    from records
    where
        records.effective_from <= {{ as_of_date() }}
        and (records.effective_until is null or records.effective_until >= {{ as_of_date() }})
        and (records.revoked_on is null or records.revoked_on > {{ as_of_date() }})

),

final as (

    select
        in_force.record_id,
        in_force.entity_id,
        coalesce(entities.entity_name, in_force.entity_name) as entity_name,
        in_force.reason,
        in_force.authority,
        in_force.decision_no,
        in_force.effective_from,
        in_force.effective_until,
        {{ as_of_date() }} as as_of_date
    from in_force
    left join entities on in_force.entity_id = entities.entity_id
    where
        in_force.list_type = 'red_list'
        and not exists (
            select 1
            from in_force as black
            where black.entity_id = in_force.entity_id and black.list_type = 'serious_dishonest'
        )
        and not exists (
            select 1
            from bad_conduct
            where bad_conduct.subject_id = in_force.entity_id and bad_conduct.notice_status = 'published'
        )

)

select * from final
