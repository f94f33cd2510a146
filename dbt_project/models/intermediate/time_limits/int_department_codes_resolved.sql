-- grain: one row per item_type x item_id x code_role (a department code as a feed delivered it)

{# The trading-centre feed names departments in complaints (received_by, forwarded_to) and
   cases (decided_by) with its own codes: this project's `<region>-<KIND>` (530100-HOUSING),
   a system abbreviation (JYZX 交易中心, FGW 发改委, ZJJ 住建局, ...) alone or with a region
   code before or after it (530100-ZJJ, ZJJ530100). Resolution, in order:
   1. the code is a department code of the departments seed;
   2. the abbreviation (what remains without the region) is in the department_code_aliases
      seed: the department of that kind in the region the code names, else in the region of
      the item's lot (its prefecture), else the provincial one;
   3. otherwise the code is unknown: department_code is null. The time limits then route the
      item to the lot's supervising department (else the provincial trading centre), and the
      code is listed in fct_unknown_department_codes, whose test fails the build. #}

with complaints as (

    select * from {{ ref('stg_trading_centre__complaints') }}

),

cases as (

    select * from {{ ref('stg_trading_centre__cases') }}

),

tenders as (

    select * from {{ ref('stg_trading_centre__tenders') }}

),

departments as (

    select * from {{ ref('departments') }}

),

aliases as (

    select * from {{ ref('department_code_aliases') }}

),

delivered as (

    select
        'complaint' as item_type,
        complaint_id as item_id,
        'received_by' as code_role,
        tender_id,
        received_by as code
    from complaints
    where received_by is not null
    union all
    select
        'complaint' as item_type,
        complaint_id as item_id,
        'forwarded_to' as code_role,
        tender_id,
        forwarded_to as code
    from complaints
    where forwarded_to is not null
    union all
    select
        'case' as item_type,
        case_id as item_id,
        'decided_by' as code_role,
        tender_id,
        decided_by as code
    from cases
    where decided_by is not null

),

parsed as (

    select
        delivered.*,
        tenders.region_code as lot_region_code,
        normalised.code_norm,
        coalesce(
            substring(normalised.code_norm from '^([0-9]{6})'),
            substring(normalised.code_norm from '([0-9]{6})$')
        ) as named_region_code,
        regexp_replace(normalised.code_norm, '^[0-9]{6}[-_.:/]?|[-_.:/]?[0-9]{6}$', '') as abbreviation
    from delivered
    left join tenders on delivered.tender_id = tenders.tender_id
    cross join lateral (  -- noqa: ST05
        select upper(regexp_replace(translate(delivered.code, '－—–＿', '---_'), '[[:space:]　]+', '', 'g')) as code_norm
    ) as normalised

),

located as (

    select
        parsed.*,
        aliases.department_kind as alias_kind,
        -- departments sit at the province and the prefectures: a county code means its prefecture
        case
            when coalesce(parsed.named_region_code, parsed.lot_region_code) like '%0000'
                then coalesce(parsed.named_region_code, parsed.lot_region_code)
            else left(coalesce(parsed.named_region_code, parsed.lot_region_code), 4) || '00'
        end as lookup_region_code
    from parsed
    left join aliases on parsed.abbreviation = aliases.feed_code

),

final as (

    select
        located.item_type,
        located.item_id,
        located.code_role,
        located.tender_id,
        located.code as delivered_code,
        located.abbreviation,
        located.alias_kind as department_kind,
        located.lookup_region_code,
        coalesce(exact.code, regional.code, provincial.code) as department_code,
        case
            when exact.code is not null then 'department_code'
            when regional.code is not null then 'alias_in_region'
            when provincial.code is not null then 'alias_provincial'
        end as resolved_by,
        coalesce(exact.code, regional.code, provincial.code) is null as is_unknown
    from located
    left join departments as exact on located.code_norm = exact.code
    left join departments as regional
        on located.alias_kind = regional.kind
        and located.lookup_region_code = regional.region_code
    left join departments as provincial
        on located.alias_kind = provincial.kind
        and provincial.region_code = '530000'

)

select * from final
