-- grain: one row per awarded tender lot (中标结果公示), as of the analysis date
-- Companies (legal persons) are named; no natural person, ID number, phone or account appears.
{{ config(alias='tender_results') }}

with tenders as (

    select * from {{ ref('stg_trading_centre__tenders') }}

),

awards as (

    select * from {{ ref('stg_trading_centre__awards') }}

),

entities as (

    select * from {{ ref('stg_trading_centre__entities') }}

),

regions as (

    select * from {{ ref('regions') }}

),

published as (

    select awards.*
    from awards
    where {{ local_date('awards.awarded_at') }} <= {{ as_of_date() }}

),

final as (

    select
        tenders.tender_id,
        tenders.tender_name,
        tenders.project_code,
        tenders.category,
        case tenders.category
            when 'construction' then '工程建设'
            when 'government_procurement' then '政府采购'
            when 'land' then '土地使用权'
            when 'mining_rights' then '矿业权'
            when 'state_assets' then '国有产权'
            else '其他'
        end as category_zh,
        tenders.region_code,
        coalesce(regions.name_zh, prefectures.name_zh) as region_name,
        case tenders.procurement_method
            when 'open' then '公开招标'
            when 'invited' then '邀请招标'
            when 'competitive_negotiation' then '竞争性谈判'
            when 'competitive_consultation' then '竞争性磋商'
            when 'single_source' then '单一来源采购'
            when 'inquiry' then '询价'
            when 'auction' then '拍卖'
            when 'listing' then '挂牌'
        end as procurement_method_zh,
        tenders.tenderer_id,
        tenderer.entity_name as tenderer_name,
        tenders.agency_id,
        agency.entity_name as agency_name,
        published.winner_id,
        winner.entity_name as winner_name,
        tenders.control_price,
        published.award_price,
        {{ local_date('published.awarded_at') }} as awarded_on,
        published.publicity_start,
        published.publicity_end,
        {{ as_of_date() }} as as_of_date
    from published
    inner join tenders on published.tender_id = tenders.tender_id
    left join entities as tenderer on tenders.tenderer_id = tenderer.entity_id
    left join entities as agency on tenders.agency_id = agency.entity_id
    left join entities as winner on published.winner_id = winner.entity_id
    left join regions on tenders.region_code = regions.region_code
    -- lots of a county (530127) are named by their prefecture (530100)
    left join regions as prefectures on left(tenders.region_code, 4) || '00' = prefectures.region_code

)

select * from final
