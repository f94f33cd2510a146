-- Quality gate results and the publication log (issue 7). Idempotent.

-- One row per gate check of a batch date, written by the nightly run after the GX
-- checkpoint and dbt tests. Reruns add rows: the newest checked_at of a date decides.
create table if not exists ops.quality_gate (
    batch_date date not null,
    passed boolean not null,
    checked_at timestamptz not null default now(),
    details jsonb,
    run_id text,
    primary key (batch_date, checked_at)
);

comment on table ops.quality_gate is
    'Quality gate per batch date (GX checkpoint + dbt tests); the newest checked_at of a date decides whether `ggzy publish` may publish it.';

-- One row per publication attempt (ggzy publish). A refused attempt is recorded with
-- its reason and never touches the files of an earlier publication.
create table if not exists ops.publications (
    publication_id bigint generated always as identity primary key,
    batch_date date not null,
    published boolean not null,
    reason text not null,
    files jsonb not null default '[]'::jsonb,  -- [{"name", "table", "rows", "bytes", "sha256"}]
    export_dir text,
    published_at timestamptz,                  -- null when refused
    attempted_at timestamptz not null default now()
);

create index if not exists publications_batch_date_idx on ops.publications (batch_date, attempted_at desc);

comment on table ops.publications is
    'Every `ggzy publish` attempt: published or refused (gate failed, PII found, ...), with sha256 of each exported file.';

-- The publication in force per batch date: the newest successful attempt.
create or replace view ops.current_publications as
select distinct on (batch_date) *
from ops.publications
where published
order by batch_date, attempted_at desc;
