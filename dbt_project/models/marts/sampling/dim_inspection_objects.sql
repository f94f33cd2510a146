-- grain: one row per inspection object (object_type, object_id)
-- 检查对象名录库, the pool of the 双随机一公开 draws (random inspection): market entities,
-- tender lots (标段) and agencies, with the strata the sampling plans use (category,
-- prefecture), the department responsible under the responsibility list, the current risk
-- level and the credit level.
-- Risk: from the risk marts (fct_tender_risk per lot, fct_entity_risk per entity; an
-- entity without any signal there has risk level 'none').
-- The inputs name the columns they give: a CTE read twice is materialised whole (#18).
with entities as (

    select
        entity_id,
        entity_name,
        entity_role,
        region_code
    from {{ ref('stg_trading_centre__entities') }}

),

tenders as (

    select
        tender_id,
        tender_name,
        category,
        industry,
        region_code,
        tenderer_id,
        agency_id
    from {{ ref('stg_trading_centre__tenders') }}

),

bids as (

    select
        tender_id,
        bidder_id
    from {{ ref('stg_trading_centre__bids') }}

),

awards as (

    select
        tender_id,
        winner_id
    from {{ ref('stg_trading_centre__awards') }}

),

tender_risk as (

    select
        tender_id,
        risk_score,
        risk_level
    from {{ ref('fct_tender_risk') }}

),

entity_risk as (

    select
        entity_id,
        risk_score,
        risk_level
    from {{ ref('fct_entity_risk') }}

),

credit_records as (

    select
        entity_id,
        list_type,
        effective_from,
        effective_until,
        revoked_on
    from {{ ref('stg_credit_china__records') }}

),

taxpayers as (

    select
        entity_id,
        credit_rating,
        taxpayer_status
    from {{ ref('stg_tax__taxpayers') }}

),

responsibility_list as (

    select * from {{ ref('responsibility_list') }}

),

as_of as (

    select {{ as_of_date() }} as as_of_date

),

-- credit ---------------------------------------------------------------------------
credit_in_force as (

    select
        r.entity_id,
        bool_or(r.list_type = 'serious_dishonest') as has_serious_dishonest,
        bool_or(r.list_type in ('administrative_penalty', 'abnormal_operation')) as has_other_negative,
        bool_or(r.list_type = 'red_list') as has_red_list
    from credit_records as r
    cross join as_of
    where
        r.effective_from <= as_of.as_of_date
        and (r.effective_until is null or r.effective_until >= as_of.as_of_date)
        and (r.revoked_on is null or r.revoked_on > as_of.as_of_date)
    group by r.entity_id

),

entity_credit as (

    select
        e.entity_id,
        case
            when coalesce(c.has_serious_dishonest, false) or t.credit_rating = 'D' then 'D'
            when
                coalesce(c.has_other_negative, false)
                or t.credit_rating = 'C'
                or t.taxpayer_status = 'abnormal'
                then 'C'
            when t.credit_rating = 'A' or coalesce(c.has_red_list, false) then 'A'
            else 'B'
        end as credit_level,
        concat_ws(
            ';',
            case when c.has_serious_dishonest then 'serious_dishonest' end,
            case when c.has_other_negative then 'penalty_or_abnormal_operation' end,
            case when c.has_red_list then 'red_list' end,
            case when t.credit_rating is not null then 'tax_' || t.credit_rating end,
            case when t.taxpayer_status = 'abnormal' then 'tax_abnormal' end
        ) as credit_basis
    from entities as e
    left join credit_in_force as c on e.entity_id = c.entity_id
    left join taxpayers as t on e.entity_id = t.entity_id

),

-- where an entity trades: its main (category, industry), for strata and responsibility
participation as (

    select
        tenderer_id as entity_id,
        category,
        industry
    from tenders
    union all
    select
        agency_id as entity_id,
        category,
        industry
    from tenders
    where agency_id is not null
    union all
    select
        b.bidder_id as entity_id,
        t.category,
        t.industry
    from bids as b
    inner join tenders as t on b.tender_id = t.tender_id

),

entity_main_line as (

    select distinct on (entity_id)
        entity_id,
        category,
        industry
    from (
        select
            entity_id,
            category,
            coalesce(industry, 'other') as industry,
            count(*) as n_lots
        from participation
        group by entity_id, category, coalesce(industry, 'other')
    ) as counted
    order by entity_id asc, n_lots desc, category asc, industry asc

),

-- objects ---------------------------------------------------------------------------
tender_objects as (

    select
        'tender' as object_type,
        t.tender_id as object_id,
        t.tender_name as object_name,
        null::text as entity_role,
        t.category,
        coalesce(t.industry, 'other') as industry,
        t.region_code,
        concat_ws(';', t.tenderer_id, t.agency_id, a.winner_id) as related_entity_ids,
        tr.risk_score,
        tr.risk_level,
        -- a lot is as trustworthy as the worst of its tenderer and winner
        coalesce(greatest(ct.credit_level, cw.credit_level), 'B') as credit_level,
        concat_ws(
            ' | ',
            'tenderer:' || nullif(ct.credit_basis, ''),
            'winner:' || nullif(cw.credit_basis, '')
        ) as credit_basis
    from tenders as t
    left join awards as a on t.tender_id = a.tender_id
    left join tender_risk as tr on t.tender_id = tr.tender_id
    left join entity_credit as ct on t.tenderer_id = ct.entity_id
    left join entity_credit as cw on a.winner_id = cw.entity_id

),

entity_objects as (

    select
        case when e.entity_role = 'agency' then 'agency' else 'entity' end as object_type,
        e.entity_id as object_id,
        e.entity_name as object_name,
        e.entity_role,
        coalesce(m.category, 'other') as category,
        coalesce(m.industry, 'other') as industry,
        e.region_code,
        e.entity_id as related_entity_ids,
        er.risk_score,
        er.risk_level,
        coalesce(c.credit_level, 'B') as credit_level,
        c.credit_basis
    from entities as e
    left join entity_main_line as m on e.entity_id = m.entity_id
    left join entity_risk as er on e.entity_id = er.entity_id
    left join entity_credit as c on e.entity_id = c.entity_id

),

objects as (

    select * from tender_objects
    union all
    select * from entity_objects

),

final as (

    select
        o.object_type,
        o.object_id,
        o.object_name,
        o.entity_role,
        o.category,
        o.industry,
        o.region_code,
        case
            when o.region_code ~ '^53[0-9]{4}$' then left(o.region_code, 4) || '00'
            else '530000'
        end as prefecture_code,
        coalesce(r.department_kind, 'development-reform') as responsible_department_kind,
        o.related_entity_ids,
        coalesce(o.risk_score, 0) as risk_score,
        coalesce(o.risk_level, 'none') as risk_level,
        case o.object_type when 'tender' then 'fct_tender_risk' else 'fct_entity_risk' end as risk_source,
        o.credit_level,
        nullif(o.credit_basis, '') as credit_basis,
        as_of.as_of_date
    from objects as o
    cross join as_of
    left join responsibility_list as r
        on o.category = r.category and o.industry = r.industry

)

select * from final
