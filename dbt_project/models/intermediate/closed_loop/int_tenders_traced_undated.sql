-- grain: one row per tender (tender lot, 标段): the closed-loop trace of int_tenders_traced_through_closed_loop
-- without what depends on the analysis date (as_of_date, cl_stage_overdue and the flag totals,
-- added by that view), so that a row changes only when the lot's chain changes.
-- Incremental by what changed (macros/rows_changed.sql), the fingerprint being the row itself:
-- a lot's row reads its tender, award, contracts, milestones, bids, department, link and
-- project, and every lot of its project (project_lot_count). A night computes the rows of the
-- candidate lots only and writes those that differ from the kept ones (and removes those of lots
-- gone): the lots whose tender or award rows were stamped since the last build, those linked to
-- a project whose row was, those the link, lot and department models logged since (macro
-- changed_keys_since_last_staged, macros/change_log.sql: every lot after a re-delivered day, or
-- a parent or this model rebuilt whole); those whose contracts or milestones (two parents rebuilt
-- whole every night) no longer give their kept columns, found by comparing them; and every lot
-- of the projects these lots are or were linked to (the count of a project's lots). Computing
-- every lot's row to compare them was the night's 18.9 s at scale 16 (issue #18). Any order of
-- nights gives the full refresh's table.
{#- fingerprint_salt: the vars the rows read (their change makes a build of another version,
    which computes every lot); nested loops off: a night joins a few thousand lots read by index
    to the parents read whole by hash (every lot's fingerprint compared with the kept one when
    there are no candidates) -#}
{%- set salt = "'" ~ var('approval_required_categories') | join(',') ~ "/" ~ var('contract_due_days') ~ "/"
    ~ var('contract_deviation_pct') ~ "/" ~ var('settlement_overrun_pct') ~ "/" ~ var('timezone') ~ "'" %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='tender_id',
    on_schema_change='fail',
    fingerprint_salt=salt,
    pre_hook=["set local enable_nestloop = off"],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'tender', 'tender_id', unique=true) }}",
    ],
) }}

{%- set staged = changed_keys_since_last_staged(
    [
        (ref('stg_trading_centre__tenders'), 'tender_id'),
        (ref('stg_trading_centre__awards'), 'tender_id'),
        (ref('stg_approval__projects'), 'project_code', ref('int_tenders_linked_to_projects'), 'project_code'),
    ],
    parents=['int_tenders_linked_to_projects', 'int_lots_summarised', 'int_tenders_assigned_to_departments'],
) %}
{%- set candidates = 'select key_value from candidate_keys' if staged is not none else none %}

{# The closed loop (闭环监管) of a lot across the systems: approval -> tender -> award
   -> contract -> construction start -> completion -> acceptance -> final settlement,
   and budget -> control -> award -> contract -> settlement price, tied by the project
   code (一项一码). Each cl_* flag is named by its rule id in seeds/risk_rules.csv;
   thresholds are project vars (dbt_project.yml). #}

-- the parents rebuilt whole every night, read whole (joined by hash)
with contracts as not materialized (

    select * from {{ ref('int_contracts_aggregated_to_tenders') }}

),

milestones as not materialized (

    select * from {{ ref('int_milestones_pivoted_to_tenders') }}

),

all_links as not materialized (

    select * from {{ ref('int_tenders_linked_to_projects') }}

),
{%- if candidates is not none %}

-- the lots stamped or logged since the last build, and those whose contracts or milestones no
-- longer give their kept columns (a contract moved to another lot leaves no stamp on the first;
-- a project-level milestone follows the links): one pass over the kept rows
changed_lots as materialized (

    {{ staged }}

    union

    select kept.tender_id::text as key_value
    from {{ this }} as kept
    left join contracts
        on kept.tender_id = contracts.tender_id
    left join milestones
        on kept.tender_id = milestones.tender_id
    where
        (kept.contract_count, kept.contract_amount, kept.contract_signed_at)
        is distinct from (coalesce(contracts.contract_count, 0), contracts.contract_amount, contracts.first_signed_at)
        or (
            kept.construction_start_on, kept.completion_on, kept.acceptance_on, kept.final_settlement_on,
            kept.final_settlement_amount, kept.uses_project_level_milestones,
            kept.construction_start_applies_to_lot, kept.final_settlement_applies_to_lot
        ) is distinct from (
            milestones.construction_start_on, milestones.completion_on, milestones.acceptance_on,
            milestones.final_settlement_on, milestones.final_settlement_amount,
            coalesce(milestones.uses_project_level_milestones, false),
            coalesce(not coalesce(milestones.construction_start_is_project_level, false) or kept.project_lot_count = 1, true),
            coalesce(not coalesce(milestones.final_settlement_is_project_level, false) or kept.project_lot_count = 1, true)
        )

),

-- and every lot of the projects those lots are linked to or were (a lot linked or unlinked
-- changes its project's count of lots): the candidates' project_lots are then counted whole
candidate_keys as materialized (

    select key_value from changed_lots

    union

    select all_links.tender_id::text as key_value
    from all_links
    where
        all_links.project_code in (
            select linked.project_code
            from all_links as linked
            where linked.tender_id = any({{ candidates_array('select key_value from changed_lots') }})
            union
            select kept.project_code
            from {{ this }} as kept
            where kept.tender_id = any({{ candidates_array('select key_value from changed_lots') }})
        )

),
{%- endif %}

tenders as (

    select * from {{ ref('stg_trading_centre__tenders') }}
    {{ where_candidates(candidates) }}

),

awards as (

    select * from {{ ref('stg_trading_centre__awards') }}
    {{ where_candidates(candidates) }}

),

links as (

    select * from all_links
    {{ where_candidates(candidates) }}

),

-- on a night, the candidates' projects alone, by index (read whole and hashed, 137,582 at scale 16)
projects as (

    select * from {{ ref('stg_approval__projects') }}
    {%- if candidates is not none %}
    {{ where_candidates('select links.project_code from links', key='project_code') }}
    {%- endif %}

),

-- the bids counted once, in int_lots_summarised (valid = newest bid per bidder, not rejected)
lots as (

    select * from {{ ref('int_lots_summarised') }}
    {{ where_candidates(candidates) }}

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
    {{ where_candidates(candidates) }}

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

    {{ rows_changed('flagged', ref('stg_trading_centre__tenders'), 'tender_id', candidates) }}

)

-- (the columns of `rows`, with the fingerprint: the linter cannot count them through the macro)
select * from final  -- noqa: AM04
