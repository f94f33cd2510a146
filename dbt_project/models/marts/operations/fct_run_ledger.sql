-- grain: one row per nightly run
-- The run ledger: what each run did and how its tasks ended (数据运行: 运行台账).
with runs as (

    select * from {{ source('run_ledger', 'run_ledger') }}

),

gates as (

    select distinct on (batch_date)
        batch_date,
        passed as gate_passed
    from {{ source('run_ledger', 'quality_gate') }}
    order by batch_date asc, checked_at desc

),

late as (

    select
        batch_date,
        string_agg(feed, ',' order by feed) as feeds_late
    from {{ source('run_ledger', 'feed_late') }}
    group by batch_date

),

final as (

    select
        r.run_id,
        r.batch_date,
        r.started_at,
        r.finished_at,
        extract(epoch from r.finished_at - r.started_at)::numeric(12, 1) as duration_seconds,
        (
            select count(*) from jsonb_each_text(r.task_states) as t (task_id, state)
            where t.state = 'success'
        ) as tasks_succeeded,
        (
            select count(*) from jsonb_each_text(r.task_states) as t (task_id, state)
            where t.state in ('failed', 'upstream_failed')
        ) as tasks_failed,
        r.task_states ->> 'dbt_build' as dbt_build_state,
        (r.details -> 'sync_alerts' ->> 'raised')::integer as alerts_raised,
        (r.details -> 'sync_alerts' ->> 'updated')::integer as alerts_updated,
        g.gate_passed,
        l.feeds_late
    from runs as r
    left join gates as g
        on r.batch_date = g.batch_date
    left join late as l
        on r.batch_date = l.batch_date

)

select * from final
