-- Run ledger: what each nightly run did (issue 9). Written by the DAG's last task.
create table if not exists ops.run_ledger (
    run_id        text primary key,
    batch_date    date not null,
    started_at    timestamptz,
    finished_at   timestamptz,
    task_states   jsonb not null default '{}',   -- task_id -> state
    details       jsonb not null default '{}'    -- loads, gate, dbt results, alerts, durations
);
create index if not exists run_ledger_batch_date on ops.run_ledger (batch_date);

create table if not exists ops.run_feed_ledger (
    run_id            text not null references ops.run_ledger (run_id) on delete cascade,
    feed              text not null,
    batch_date        date not null,
    status            text,
    files             jsonb,
    rows_delivered    bigint,
    rows_loaded       bigint,
    rows_quarantined  bigint,
    primary key (run_id, feed)
);

-- A feed whose batch did not arrive by its deadline (the other feeds went on).
create table if not exists ops.feed_late (
    feed         text not null,
    batch_date   date not null,
    run_id       text,
    deadline     timestamptz,
    detected_at  timestamptz not null default now(),
    arrived_at   timestamptz,
    primary key (feed, batch_date)
);

-- Ledger views that the quality gate, the run ledger and the data engineers' dashboard read.
create or replace view raw.batch_file_summary as
select f.feed, f.batch_date, f.file, b.status, f.rows_manifest, f.rows_delivered, f.rows_loaded,
       f.rows_quarantined, f.quarantined_by_rule, f.extra_columns, b.loaded_at
from raw.batch_files f
join raw.batches b using (feed, batch_date);

create or replace view raw.batch_summary as
select b.feed, b.batch_date, b.status,
       coalesce(jsonb_object_agg(f.file, jsonb_build_object(
           'delivered', f.rows_delivered, 'loaded', f.rows_loaded, 'quarantined', f.rows_quarantined))
           filter (where f.file is not null), '{}') as files,
       b.rows_delivered, b.rows_loaded, b.rows_quarantined, b.refusal, b.loaded_at, b.duration
from raw.batches b
left join raw.batch_files f using (feed, batch_date)
group by b.feed, b.batch_date, b.status, b.rows_delivered, b.rows_loaded, b.rows_quarantined,
         b.refusal, b.loaded_at, b.duration;
