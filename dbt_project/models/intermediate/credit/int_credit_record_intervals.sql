-- grain: one row per credit record (record_id) with the interval it is in force
-- (the rows of marts.dim_entity_credit_intervals, built here so that the credit rules,
-- int_signals_credit, read them below the marts)
{{ config(
    post_hook=[
        "{{ table_index(this, 'record', 'record_id', unique=true) }}",
        "{{ table_index(this, 'entity', 'entity_id, list_type') }}",
        "analyze {{ this }}",
    ],
) }}

{# Credit China (信用中国) list records as validity intervals. A record is in force on
   day d when valid_from <= d < valid_to: from effective_from up to the earlier of
   effective_until and revoked_on (信用修复/移出 ends the listing and its measures on the
   day of revocation); valid_to null = open-ended. valid_during is the same interval as a
   daterange, so "in force on d" is `valid_during @> d` (macro entity_under_measure_on). #}

with records as (

    select * from {{ ref('stg_credit_china__records') }}

),

bounded as (

    select
        record_id,
        entity_id,
        entity_name,
        list_type,
        reason,
        authority,
        decision_no,
        decided_on,
        measures,
        coalesce(
            array(
                select distinct trim(m)
                from unnest(string_to_array(lower(records.measures), ';')) as m
                where trim(m) <> ''
                order by 1
            ),
            array[]::text[]
        ) as measure_list,
        effective_from,
        effective_until,
        revoked_on,
        effective_from as valid_from,
        case
            when effective_until is null then revoked_on
            when revoked_on is null then effective_until
            else least(effective_until, revoked_on)
        end as valid_to,
        case
            when revoked_on is not null and (effective_until is null or revoked_on <= effective_until)
                then 'revocation'
            when effective_until is not null then 'expiry'
        end as ended_by,
        updated_at
    from records

),

final as (

    select
        record_id,
        entity_id,
        entity_name,
        list_type,
        reason,
        authority,
        decision_no,
        decided_on,
        measures,
        measure_list,
        'bid_ban' = any(measure_list) as has_bid_ban,
        'procurement_ban' = any(measure_list) as has_procurement_ban,
        effective_from,
        effective_until,
        revoked_on,
        valid_from,
        valid_to,
        ended_by,
        case
            when valid_to is not null and valid_to <= valid_from then 'empty'::daterange
            else daterange(valid_from, valid_to, '[)')
        end as valid_during,
        coalesce(valid_to <= valid_from, false) as is_void,
        case
            when valid_to is not null and valid_to <= valid_from then false
            else daterange(valid_from, valid_to, '[)') @> ({{ as_of_date() }})
        end as in_force_as_of,
        (list_type = 'serious_dishonest' and 'bid_ban' = any(measure_list)) as is_bid_ban_listing,
        {{ as_of_date() }} as as_of_date,
        updated_at
    from bounded

)

select * from final
