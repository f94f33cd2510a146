-- grain: one row per risk rule (rule_id): the catalogue with its configured weight and the
-- weight in force after outcome feedback (verified rules weigh more, dismissed ones less)
with rules as (

    select * from {{ ref('risk_rules') }}

),

precision as (

    select * from {{ source('alerts', 'rule_precision') }}

),

final as (

    select
        rules.rule_id,
        rules.rule_group,
        rules.subject_type,
        rules.severity,
        rules.deterministic,
        rules.name_zh,
        rules.name_en,
        rules.description_zh,
        rules.description_en,
        rules.evidence as evidence_recorded,
        rules.legal_basis,
        rules.weight::numeric as configured_weight,
        coalesce(precision.n_verified, 0) as n_verified,
        coalesce(precision.n_dismissed, 0) as n_dismissed,
        -- rounded, so that "no outcome yet" gives the same value whether or not alerts exist
        round(coalesce(precision.precision_estimate, 0.5)::numeric, 4) as precision_estimate,
        round(coalesce(precision.weight_multiplier, 1.0)::numeric, 4) as weight_multiplier,
        round((rules.weight * coalesce(precision.weight_multiplier, 1.0))::numeric, 4) as effective_weight
    from rules
    left join precision on rules.rule_id = precision.rule_id

)

select * from final
