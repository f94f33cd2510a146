-- grain: one row per feed x batch date x file (current delivery)
-- The load ledger for the data engineers' dashboard (数据运行): delivered = loaded + quarantined.
with batch_files as (

    select * from {{ source('load_ledger', 'batch_files') }}

),

batches as (

    select * from {{ source('load_ledger', 'batches') }}

),

gates as (

    select distinct on (batch_date)
        batch_date,
        passed as gate_passed
    from {{ source('run_ledger', 'quality_gate') }}
    order by batch_date asc, checked_at desc

),

final as (

    select
        f.feed,
        f.batch_date,
        f.file,
        b.status,
        b.deliveries,
        b.refusal,
        b.loaded_at,
        extract(epoch from b.duration)::numeric(12, 3) as batch_seconds,
        f.rows_delivered,
        f.rows_loaded,
        f.rows_quarantined,
        f.quarantined_by_rule,
        f.extra_columns,
        g.gate_passed,
        case when f.rows_delivered > 0
                then round(f.rows_quarantined::numeric / f.rows_delivered, 4)
        end as quarantine_rate
    from batch_files as f
    inner join batches as b
        on f.feed = b.feed and f.batch_date = b.batch_date
    left join gates as g
        on f.batch_date = g.batch_date

)

select * from final
