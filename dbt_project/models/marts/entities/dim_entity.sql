-- grain: one row per entity (market entity, 市场主体, by USCC)
{{ config(
    post_hook=[
        "{{ table_index(this, 'entity', 'entity_id', unique=true) }}",
        "analyze {{ this }}",
    ],
) }}

{# One row per company any feed mentions: the trading centre's register, a summary of its
   links (people only as pseudonymous keys, names masked), its Credit China standing on
   the analysis date and its tax status. Personal data stays in staging/intermediate. #}

with entity_ids as (

    select * from {{ ref('int_entity_ids_unioned') }}

),

entities as (

    select * from {{ ref('stg_trading_centre__entities') }}

),

links as (

    select * from {{ ref('int_entity_links_classified') }}

),

credit_intervals as (

    select * from {{ ref('dim_entity_credit_intervals') }}

),

taxpayers as (

    select * from {{ ref('stg_tax__taxpayers') }}

),

link_summary as (

    select
        entity_id,
        count(*) filter (where link_type = 'legal_rep') as legal_rep_count,
        count(*) filter (where link_type = 'shareholder') as shareholder_count,
        count(*) filter (where link_type = 'project_manager') as project_manager_count,
        count(*) filter (where link_type = 'staff') as staff_count,
        min(linked_party_key) filter (where link_type = 'legal_rep') as legal_rep_key,
        string_agg(
            distinct linked_party_key, ';' order by linked_party_key
        ) filter (where link_type = 'shareholder' and linked_party_kind = 'company') as company_shareholder_ids,
        max(share_pct) filter (where link_type = 'shareholder') as largest_share_pct
    from links
    group by entity_id

),

controlling as (

    select distinct on (entity_id)
        entity_id,
        linked_party_key as controlling_shareholder_key,
        linked_party_kind as controlling_shareholder_kind,
        share_pct as controlling_share_pct
    from links
    where link_type = 'shareholder' and share_pct > 50
    order by entity_id asc, share_pct desc, linked_party_key asc

),

credit_summary as (

    select
        entity_id,
        min(entity_name) as credit_entity_name,
        count(*) as credit_record_count,
        count(*) filter (where list_type = 'serious_dishonest') as serious_dishonest_record_count,
        bool_or(in_force_as_of and list_type = 'serious_dishonest') as is_serious_dishonest_as_of,
        bool_or(in_force_as_of and is_bid_ban_listing) as is_bid_banned_as_of,
        max(coalesce(valid_to, date '9999-12-31')) filter (
            where in_force_as_of and is_bid_ban_listing
        ) as bid_ban_in_force_until,
        bool_or(in_force_as_of and list_type = 'red_list') as is_red_listed_as_of,
        bool_or(in_force_as_of and list_type = 'abnormal_operation') as is_abnormal_operation_as_of,
        count(*) filter (where list_type = 'administrative_penalty') as administrative_penalty_count,
        count(*) filter (where revoked_on is not null) as revoked_record_count
    from credit_intervals
    group by entity_id

),

final as (

    select
        entity_ids.entity_id,
        coalesce(entities.entity_name, taxpayers.entity_name, credit_summary.credit_entity_name) as entity_name,
        entities.entity_role,
        entities.region_code,
        left(entities.region_code, 4) || '00' as prefecture_code,
        entities.registered_capital,
        entities.established_on,
        case
            when nullif(trim(entities.legal_rep_name), '') is not null
                then left(trim(entities.legal_rep_name), 1)
                    || repeat('*', greatest(char_length(trim(entities.legal_rep_name)) - 1, 1))
        end as legal_rep_name_masked,
        coalesce({{ person_key('entities.legal_rep_id_no') }}, link_summary.legal_rep_key) as legal_rep_key,
        {{ person_key("regexp_replace(entities.contact_phone, '[^0-9]', '', 'g')") }} as contact_phone_key,
        entities.entity_id is not null as in_entity_register,
        entity_ids.seen_in,
        coalesce(link_summary.legal_rep_count, 0) as legal_rep_count,
        coalesce(link_summary.shareholder_count, 0) as shareholder_count,
        coalesce(link_summary.project_manager_count, 0) as project_manager_count,
        coalesce(link_summary.staff_count, 0) as staff_count,
        link_summary.company_shareholder_ids,
        link_summary.largest_share_pct,
        controlling.controlling_shareholder_key,
        controlling.controlling_shareholder_kind,
        controlling.controlling_share_pct,
        coalesce(credit_summary.credit_record_count, 0) as credit_record_count,
        coalesce(credit_summary.serious_dishonest_record_count, 0) as serious_dishonest_record_count,
        coalesce(credit_summary.is_serious_dishonest_as_of, false) as is_serious_dishonest_as_of,
        coalesce(credit_summary.is_bid_banned_as_of, false) as is_bid_banned_as_of,
        nullif(credit_summary.bid_ban_in_force_until, date '9999-12-31') as bid_ban_in_force_until,
        coalesce(credit_summary.is_red_listed_as_of, false) as is_red_listed_as_of,
        coalesce(credit_summary.is_abnormal_operation_as_of, false) as is_abnormal_operation_as_of,
        coalesce(credit_summary.administrative_penalty_count, 0) as administrative_penalty_count,
        coalesce(credit_summary.revoked_record_count, 0) as revoked_record_count,
        taxpayers.taxpayer_status,
        taxpayers.credit_rating as tax_credit_rating,
        taxpayers.rating_year as tax_rating_year,
        taxpayers.tax_paid_last_year,
        taxpayers.invoiced_revenue_last_year,
        taxpayers.insured_employees,
        coalesce(taxpayers.taxpayer_status in ('abnormal', 'deregistered') or taxpayers.credit_rating = 'D', false)
            as is_tax_risk,
        {{ as_of_date() }} as as_of_date
    from entity_ids
    left join entities
        on entity_ids.entity_id = entities.entity_id
    left join link_summary
        on entity_ids.entity_id = link_summary.entity_id
    left join controlling
        on entity_ids.entity_id = controlling.entity_id
    left join credit_summary
        on entity_ids.entity_id = credit_summary.entity_id
    left join taxpayers
        on entity_ids.entity_id = taxpayers.entity_id

)

select * from final
