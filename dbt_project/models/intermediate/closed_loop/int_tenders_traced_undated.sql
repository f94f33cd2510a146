-- grain: one row per tender (tender lot, 标段): the closed-loop trace of int_tenders_traced_through_closed_loop
-- without what depends on the analysis date (as_of_date, cl_stage_overdue and the flag totals,
-- added by that view), so that a row changes only when the lot's chain changes.
-- Incremental by what changed (macros/rows_changed.sql), the fingerprint being the row itself:
-- a lot's row reads its tender, award, contracts, milestones, bids, department, link and
-- project, and every lot of its project (project_lot_count), across seven feeds and five
-- models, two of them rebuilt whole; rather than track them all (and the re-deliveries that
-- leave no trace in staging), a night computes every row (about 5 s at scale 16) and writes
-- only the rows that differ from the kept ones, and removes those of lots gone. The write was
-- most of the night's 18.9 s (issue #18). Any order of nights gives the full refresh's table.
{#- nested loops off: every lot's fingerprint is compared with the kept one, a hash join -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='tender_id',
    on_schema_change='fail',
    pre_hook=["set local enable_nestloop = off"],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'tender', 'tender_id', unique=true) }}",
    ],
) }}

{# The closed loop (闭环监管) of a lot across the systems: approval -> tender -> award
   -> contract -> construction start -> completion -> acceptance -> final settlement,
   and budget -> control -> award -> contract -> settlement price, tied by the project
   code (一项一码). Each cl_* flag is named by its rule id in seeds/risk_rules.csv;
   thresholds are project vars (dbt_project.yml). #}

with tenders as (

    select * from {{ ref('stg_trading_centre__tenders') }}

),

{%- if is_incremental() %}

-- the lots as keys alone (for the lots gone): read apart from `tenders`, which a second reader
-- would have materialized whole
tender_keys as (

    select tender_id from {{ ref('stg_trading_centre__tenders') }}

),
{%- endif %}

awards as (

    select * from {{ ref('stg_trading_centre__awards') }}

),

projects as (

    select * from {{ ref('stg_approval__projects') }}

),

links as (

    select * from {{ ref('int_tenders_linked_to_projects') }}

),

contracts as (

    select * from {{ ref('int_contracts_aggregated_to_tenders') }}

),

milestones as (

    select * from {{ ref('int_milestones_pivoted_to_tenders') }}

),

-- the bids counted once, in int_lots_summarised (valid = newest bid per bidder, not rejected)
lots as (

    select * from {{ ref('int_lots_summarised') }}

),

project_lots as (

    select
        project_code,
        count(*) as project_lot_count
    from links
    where project_code is not null
    group by project_code

),

assignments as (

    select * from {{ ref('int_tenders_assigned_to_departments') }}

),

joined as (

    select
        tenders.tender_id,
        tenders.tender_name,
        tenders.category,
        tenders.industry,
        tenders.procurement_method,
        tenders.region_code,
        assignments.prefecture_code,
        tenders.tenderer_id,
        tenders.agency_id,
        tenders.status as tender_status,
        assignments.supervising_department_code,
        tenders.category in (
            {%- for c in var('approval_required_categories') %}'{{ c }}'{{ ", " if not loop.last }}{% endfor -%}
        ) as approval_required,
        links.project_code_raw,
        links.project_code,
        links.link_method,
        links.unlinked_reason,
        links.link_score,
        projects.project_name,
        projects.owner_id as project_owner_id,
        projects.approval_type,
        projects.approval_doc_no,
        projects.approved_at,
        projects.approved_investment,
        projects.budget_amount,
        projects.funding_source,
        tenders.control_price,
        tenders.announced_at,
        tenders.bid_deadline,
        tenders.opened_at,
        coalesce(lots.n_bidders, 0) as bidder_count,
        coalesce(lots.n_valid_bids, 0) as valid_bidder_count,
        awards.winner_id,
        awards.award_price,
        awards.awarded_at,
        {{ local_date('awards.awarded_at') }} as award_date,
        awards.publicity_start,
        awards.publicity_end,
        coalesce(contracts.contract_count, 0) as contract_count,
        contracts.contract_amount,
        contracts.first_signed_at as contract_signed_at,
        {{ local_date('awards.awarded_at') }} + {{ var('contract_due_days') }} as contract_due_on,
        milestones.construction_start_on,
        milestones.completion_on,
        milestones.acceptance_on,
        milestones.final_settlement_on,
        milestones.final_settlement_amount,
        coalesce(milestones.uses_project_level_milestones, false) as uses_project_level_milestones,
        -- a project-level milestone speaks for a lot only when the project has no other lot
        coalesce(
            not coalesce(milestones.construction_start_is_project_level, false)
            or project_lots.project_lot_count = 1,
            true
        ) as construction_start_applies_to_lot,
        coalesce(
            not coalesce(milestones.final_settlement_is_project_level, false)
            or project_lots.project_lot_count = 1,
            true
        ) as final_settlement_applies_to_lot,
        coalesce(project_lots.project_lot_count, 0) as project_lot_count
    from tenders
    left join links
        on tenders.tender_id = links.tender_id
    left join projects
        on links.project_code = projects.project_code
    left join awards
        on tenders.tender_id = awards.tender_id
    left join contracts
        on tenders.tender_id = contracts.tender_id
    left join milestones
        on tenders.tender_id = milestones.tender_id
    left join lots
        on tenders.tender_id = lots.tender_id
    left join assignments
        on tenders.tender_id = assignments.tender_id
    left join project_lots
        on links.project_code = project_lots.project_code

),

measured as (

    select
        *,
        round(1 - award_price / nullif(control_price, 0), 6) as award_discount_rate,
        round(contract_amount / nullif(award_price, 0), 6) as contract_award_ratio,
        round(final_settlement_amount / nullif(contract_amount, 0), 6) as settlement_contract_ratio,
        round(award_price / nullif(budget_amount, 0), 6) as award_budget_ratio,
        {{ local_date('contract_signed_at') }} - award_date as award_to_contract_days
    from joined

),

flagged as (

    select
        *,
        -- 未经审批即招标: a lot that needs an approved project has no project code at all,
        -- or was announced before its (linked) project was approved
        coalesce(
            approval_required and (project_code_raw is null or approved_at > announced_at),
            false
        ) as cl_no_approval,
        -- 中标价高于招标控制价
        coalesce(award_price > control_price, false) as cl_award_above_control,
        -- 合同金额与中标价实质性不一致
        coalesce(
            abs(contract_award_ratio - 1) * 100 > {{ var('contract_deviation_pct') }}, false
        ) as cl_contract_deviation,
        -- 中标前已开工 (先建后招)
        coalesce(construction_start_applies_to_lot and construction_start_on < award_date, false)
            as cl_start_before_award,
        -- 结算价超合同价阈值
        coalesce(
            final_settlement_applies_to_lot
            and (settlement_contract_ratio - 1) * 100 > {{ var('settlement_overrun_pct') }},
            false
        ) as cl_settlement_overrun,
        -- 项目代码无法关联审批项目: a code was given but does not link as delivered (even when
        -- the warehouse could repair it, the source systems' 一项一码 chain is broken)
        (project_code_raw is not null and link_method in ('repaired', 'unmatched')) as cl_broken_link
    from measured

),

-- the rows that differ from the kept ones, and the tombstones of the lots gone (the row is the
-- fingerprint: macros/rows_changed.sql)
final as (

    {{ rows_changed('flagged', 'tender_keys', 'tender_id') }}

)

-- (the columns of `rows`, with the fingerprint: the linter cannot count them through the macro)
select * from final  -- noqa: AM04
