-- grain: one row per tender (lot, 标段)
-- The leaders' ranking of the lots by composite risk: a view over fct_tender_risk_undated (kept
-- incremental by what changed; the composite is computed there), adding what moves with the
-- analysis date, as_of_date, so that a night does not rewrite every lot's row for its new date
-- (issue #18).
{{ config(materialized='view') }}

with scored as (

    select * from {{ ref('fct_tender_risk_undated') }}

),

final as (

    -- the columns in the order the table had
    select
        tender_id,
        project_code,
        category,
        industry,
        region_code,
        prefecture_code,
        tenderer_id,
        procurement_method,
        lot_date,
        n_bidders,
        n_valid_bids,
        winner_id,
        award_price,
        department_code,
        n_signals,
        n_high_severity,
        risk_score,
        risk_level,
        rule_ids,
        explanation,
        explanation_text,
        price_screen_score,
        cobid_score,
        rotation_score,
        has_watched_participant,
        watched_entity_ids,
        {{ as_of_date() }} as as_of_date
    from scored

)

select * from final
