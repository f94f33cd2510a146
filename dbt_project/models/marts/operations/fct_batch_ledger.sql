-- grain: one row per feed x batch date (the current delivery)
-- 批次台账 for the data engineers' dashboard: counts, refusals, re-deliveries, load time.
with batches as (

    select * from {{ source('load_ledger', 'batches') }}

),

final as (

    select
        feed,
        batch_date,
        status,
        deliveries,
        rows_delivered,
        rows_loaded,
        rows_quarantined,
        refusal,
        last_refusal,
        loaded_at,
        extract(epoch from duration)::numeric(12, 3) as load_seconds
    from batches

)

select * from final
