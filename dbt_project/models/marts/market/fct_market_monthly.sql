-- grain: one row per month x category x prefecture_code x industry (lots by announcement month)

{# 价格分析、市场研判、效能评估 for leaders: volume, savings against the control price,
   competition (bidders per lot) and cycle times (announcement -> award -> contract),
   by the month a lot was announced (lots without an announcement: the award month). #}

with closed_loop as (

    select * from {{ ref('fct_closed_loop') }}

),

regions as (

    select * from {{ ref('regions') }}

),

lots as (

    select
        date_trunc(
            'month', coalesce({{ local_date('announced_at') }}, award_date)
        )::date as month_start,
        category,
        prefecture_code,
        coalesce(industry, 'unknown') as industry,
        tender_id,
        tender_status,
        control_price,
        award_price,
        award_date is not null as is_awarded,
        coalesce(award_date is not null and award_price is not null and control_price > 0, false)
            as in_savings_base,
        bidder_count,
        valid_bidder_count,
        extract(epoch from awarded_at - announced_at) / 86400.0 as announcement_to_award_days,
        extract(epoch from contract_signed_at - awarded_at) / 86400.0 as award_to_contract_days,
        extract(epoch from contract_signed_at - announced_at) / 86400.0 as announcement_to_contract_days
    from closed_loop
    where coalesce(announced_at, awarded_at) is not null

),

final as (

    select
        lots.month_start,
        lots.category,
        lots.prefecture_code,
        regions.name_zh as prefecture_name,
        lots.industry,
        count(*) as lots_announced,
        count(*) filter (where lots.is_awarded) as lots_awarded,
        count(*) filter (where lots.tender_status in ('failed', 'cancelled')) as lots_failed,
        sum(lots.control_price) as control_price_total,
        sum(lots.award_price) filter (where lots.is_awarded) as award_price_total,
        sum(lots.control_price) filter (where lots.in_savings_base) as awarded_control_price_total,
        round(
            1 - sum(lots.award_price) filter (where lots.in_savings_base)
            / nullif(sum(lots.control_price) filter (where lots.in_savings_base), 0),
            6
        ) as savings_rate,
        round(avg(lots.bidder_count) filter (where lots.bidder_count > 0), 2) as bidders_per_lot,
        round(avg(lots.valid_bidder_count) filter (where lots.bidder_count > 0), 2) as valid_bidders_per_lot,
        count(*) filter (where lots.is_awarded and lots.valid_bidder_count <= 1) as single_bid_awards,
        round(avg(lots.announcement_to_award_days)::numeric, 1) as avg_announcement_to_award_days,
        round(
            (percentile_cont(0.5) within group (order by lots.announcement_to_award_days))::numeric, 1
        ) as median_announcement_to_award_days,
        round(avg(lots.award_to_contract_days)::numeric, 1) as avg_award_to_contract_days,
        round(
            (percentile_cont(0.5) within group (order by lots.award_to_contract_days))::numeric, 1
        ) as median_award_to_contract_days,
        round(avg(lots.announcement_to_contract_days)::numeric, 1) as avg_announcement_to_contract_days
    from lots
    left join regions
        on lots.prefecture_code = regions.region_code
    group by lots.month_start, lots.category, lots.prefecture_code, regions.name_zh, lots.industry

)

select * from final
