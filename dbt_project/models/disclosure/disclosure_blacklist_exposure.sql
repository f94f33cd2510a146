-- grain: one row per Credit China serious-dishonest record in force on the analysis date (曝光台)
-- In force: effective_from <= as_of, not expired (effective_until null or >= as_of) and not
-- revoked (信用修复/移出: revoked_on null or after as_of). A record drops out of this table,
-- and so out of the next publication, on the day it is revoked or expires.
{{ config(alias='blacklist_exposure') }}

with records as (

    select * from {{ ref('stg_credit_china__records') }}

),

entities as (

    select * from {{ ref('stg_trading_centre__entities') }}

),

in_force as (

    select records.*
    from records
    where
        records.list_type = 'serious_dishonest'
        and records.effective_from <= {{ as_of_date() }}
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
        in_force.decided_on,
        in_force.effective_from,
        in_force.effective_until,
        in_force.measures,
        array_to_string(array(
            select
                case trim(m)
                    when 'bid_ban' then '禁止参与招标投标'
                    when 'procurement_ban' then '禁止参加政府采购'
                    when 'land_ban' then '限制取得土地使用权'
                    when 'financing_limit' then '限制融资'
                    when 'public_notice' then '公开曝光'
                    else '其他惩戒措施'
                end
            from unnest(string_to_array(in_force.measures, ';')) as m
            where trim(m) <> ''
        ), '；') as measures_zh,
        {{ as_of_date() }} as as_of_date
    from in_force
    left join entities on in_force.entity_id = entities.entity_id

)

select * from final
