-- grain: one row per tender (tender lot, 标段): the rows of marts.fct_closed_loop, built here so
-- that the closed-loop rules (int_signals_oversight) read them below the marts
-- A view: the trace is kept in int_tenders_traced_undated, incremental by what changed; what
-- moves with the analysis date (as_of_date, cl_stage_overdue, and so the flag totals) is added
-- here, so that a night does not rewrite every lot's row for its new date (issue #18).
{{ config(materialized='view') }}

with traced as (

    select * from {{ ref('int_tenders_traced_undated') }}

),

dated as (

    select
        *,
        {{ as_of_date() }} as as_of_date
    from traced

),

flagged as (

    select
        *,
        -- 中标后逾期未签合同: no contract by the due day, signed late or still missing at as_of_date
        coalesce(
            award_date is not null
            and (
                {{ local_date('contract_signed_at') }} > contract_due_on
                or (contract_signed_at is null and as_of_date > contract_due_on)
            ),
            false
        ) as cl_stage_overdue
    from dated

),

final as (

    -- the columns in the order the table had (as_of_date after the lot's chain, the flags in rule order)
    select
        tender_id,
        tender_name,
        category,
        industry,
        procurement_method,
        region_code,
        prefecture_code,
        tenderer_id,
        agency_id,
        tender_status,
        supervising_department_code,
        approval_required,
        project_code_raw,
        project_code,
        link_method,
        unlinked_reason,
        link_score,
        project_name,
        project_owner_id,
        approval_type,
        approval_doc_no,
        approved_at,
        approved_investment,
        budget_amount,
        funding_source,
        control_price,
        announced_at,
        bid_deadline,
        opened_at,
        bidder_count,
        valid_bidder_count,
        winner_id,
        award_price,
        awarded_at,
        award_date,
        publicity_start,
        publicity_end,
        contract_count,
        contract_amount,
        contract_signed_at,
        contract_due_on,
        construction_start_on,
        completion_on,
        acceptance_on,
        final_settlement_on,
        final_settlement_amount,
        uses_project_level_milestones,
        construction_start_applies_to_lot,
        final_settlement_applies_to_lot,
        project_lot_count,
        as_of_date,
        award_discount_rate,
        contract_award_ratio,
        settlement_contract_ratio,
        award_budget_ratio,
        award_to_contract_days,
        cl_no_approval,
        cl_award_above_control,
        cl_contract_deviation,
        cl_start_before_award,
        cl_settlement_overrun,
        cl_stage_overdue,
        cl_broken_link,
        (
            cl_no_approval::integer
            + cl_award_above_control::integer
            + cl_contract_deviation::integer
            + cl_start_before_award::integer
            + cl_settlement_overrun::integer
            + cl_stage_overdue::integer
            + cl_broken_link::integer
        ) as flag_count,
        nullif(concat_ws(
            ';',
            case when cl_no_approval then 'cl_no_approval' end,
            case when cl_award_above_control then 'cl_award_above_control' end,
            case when cl_contract_deviation then 'cl_contract_deviation' end,
            case when cl_start_before_award then 'cl_start_before_award' end,
            case when cl_settlement_overrun then 'cl_settlement_overrun' end,
            case when cl_stage_overdue then 'cl_stage_overdue' end,
            case when cl_broken_link then 'cl_broken_link' end
        ), '') as flagged_rule_ids
    from flagged

)

select * from final
