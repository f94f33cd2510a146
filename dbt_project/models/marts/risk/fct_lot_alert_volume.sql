-- grain: one row per tender (lot): whether it carries any alert and a high-severity one
{# The length of the alert list a leader reads (issue 15 item 8): the share of lots with
   any lot-level signal (avg of has_alert) and with a high-severity one (avg of
   has_high_alert), filterable like the other risk charts. `ggzy eval` reports the same
   shares on the demo, and on its clean lots (no planted anomaly) the false-alarm share;
   each rule's measured false-alarm rate is in seeds/rule_false_alarm_rates.csv. #}

with lots as (

    select * from {{ ref('fct_closed_loop') }}

),

signals as (

    select * from {{ ref('fct_risk_signals') }}

),

per_lot as (

    select
        subject_id as tender_id,
        count(*) as n_alerts,
        count(*) filter (where severity = 'high') as n_high_alerts,
        array_agg(distinct rule_id order by rule_id) as rule_ids
    from signals
    where subject_type = 'tender'
    group by subject_id

),

final as (

    select
        lots.tender_id,
        lots.announced_at,
        lots.prefecture_code,
        lots.category,
        lots.supervising_department_code,
        coalesce(per_lot.n_alerts, 0) as n_alerts,
        coalesce(per_lot.n_high_alerts, 0) as n_high_alerts,
        per_lot.tender_id is not null as has_alert,
        coalesce(per_lot.n_high_alerts, 0) > 0 as has_high_alert,
        per_lot.rule_ids
    from lots
    left join per_lot on lots.tender_id = per_lot.tender_id

)

select * from final
