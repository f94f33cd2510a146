-- No rule_id is both a risk rule and a tracking rule: fct_alert_handling names an alert's rule
-- from their union (each unique in its own seed), so a shared id would repeat every stage of
-- that rule's alerts. Checking the two seeds replaces the unique test on alert_id x stage that
-- recomputed the whole view every night (scale 16: 2.2 s).
with risk_rules as (

    select * from {{ ref('dim_risk_rules') }}

),

tracking_rules as (

    select * from {{ ref('tracking_rules') }}

)

select risk_rules.rule_id
from risk_rules
inner join tracking_rules on risk_rules.rule_id = tracking_rules.rule_id
