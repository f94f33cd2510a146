-- grain: one row per feed x batch date x file x rule
-- Quarantined rows counted by the rule they broke (数据运行: 隔离原因).
with quarantine as (

    select * from {{ source('load_ledger', 'quarantine') }}

),

final as (

    select
        feed,
        batch_date,
        file,
        rule,
        count(*) as rows_quarantined,
        min(line) as first_line
    from quarantine
    group by feed, batch_date, file, rule

)

select * from final
