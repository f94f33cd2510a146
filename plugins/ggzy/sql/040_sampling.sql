-- 双随机一公开 (issue 6): seed commitments, draw snapshots and draws, stored immutably;
-- inspection results as an append-only log. Idempotent: safe to run on every start.
create schema if not exists sampling;

-- Rejects UPDATE, DELETE and TRUNCATE: a draw, once made, is a public record. A
-- correction is a new row (results) or a new draw for a new period, never an edit.
create or replace function sampling.reject_change() returns trigger
language plpgsql as $$
begin
    raise exception 'sampling.% is append-only: % is not allowed (draws are immutable public records)',
        tg_table_name, tg_op
        using errcode = 'insufficient_privilege';
end;
$$;

-- sha256(seed) registered before the draw; the seed is revealed by the draw.
create table if not exists sampling.seed_commitments (
    plan_id text not null,
    period text not null check (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    seed_sha256 text not null check (seed_sha256 ~ '^[0-9a-f]{64}$'),
    committed_at timestamptz not null default clock_timestamp(),
    committed_by text not null default current_user,
    primary key (plan_id, period)
);

-- The seed itself, for scheduled draws (owner-only: no grants to analysts or public).
create table if not exists sampling.seed_escrow (
    plan_id text not null,
    period text not null,
    seed text not null,
    primary key (plan_id, period),
    foreign key (plan_id, period) references sampling.seed_commitments (plan_id, period)
);

-- The canonical JSON of a draw's inputs, with its sha256 (kept as text: byte-exact).
create table if not exists sampling.snapshots (
    inputs_hash text primary key check (inputs_hash ~ '^[0-9a-f]{64}$'),
    content text not null,
    created_at timestamptz not null default clock_timestamp()
);

create table if not exists sampling.draws (
    draw_id text primary key,
    plan_id text not null,
    period text not null,
    seed text not null,
    seed_sha256 text not null,
    committed_at timestamptz not null,
    inputs_hash text not null references sampling.snapshots (inputs_hash),
    algorithm_version text not null,
    as_of_date date,
    population integer not null,
    selected integer not null,
    result_hash text not null,
    created_at timestamptz not null default clock_timestamp(),
    created_by text not null default current_user,
    unique (plan_id, period),
    foreign key (plan_id, period) references sampling.seed_commitments (plan_id, period),
    check (committed_at < created_at)
);

create table if not exists sampling.draw_strata (
    draw_id text not null references sampling.draws (draw_id),
    stratum text not null,
    population integer not null,
    weight_sum numeric not null,
    planned_size integer not null,
    primary key (draw_id, stratum)
);

create table if not exists sampling.draw_objects (
    draw_id text not null references sampling.draws (draw_id),
    object_type text not null,
    object_id text not null,
    stratum text not null,
    rank_in_stratum integer not null,
    weight numeric not null,
    u double precision not null,
    es_key double precision not null,
    inclusion_probability double precision,
    risk_level text,
    credit_level text,
    primary key (draw_id, object_type, object_id)
);

create table if not exists sampling.draw_inspectors (
    draw_id text not null,
    object_type text not null,
    object_id text not null,
    slot integer not null,
    role text not null check (role in ('lead', 'member')),
    inspector_id text not null,
    department_code text not null,
    department_kind text not null,
    primary key (draw_id, object_type, object_id, slot),
    unique (draw_id, object_type, object_id, inspector_id),
    foreign key (draw_id, object_type, object_id) references sampling.draw_objects (draw_id, object_type, object_id)
);

-- Results of the inspections (检查结果), one row per recorded version; newest wins.
create table if not exists sampling.inspection_results (
    result_id bigint generated always as identity primary key,
    draw_id text not null,
    object_type text not null,
    object_id text not null,
    inspected_on date not null,
    outcome text not null check (outcome in ('no_issue', 'issue_found', 'referred', 'not_inspected')),
    finding text not null,
    published_on date,
    publication_due_on date,
    recorded_at timestamptz not null default clock_timestamp(),
    recorded_by text not null default current_user,
    foreign key (draw_id, object_type, object_id) references sampling.draw_objects (draw_id, object_type, object_id),
    check (published_on is null or published_on >= inspected_on)
);

create index if not exists draw_inspectors_object_idx on sampling.draw_inspectors (object_type, object_id);
create index if not exists inspection_results_object_idx on sampling.inspection_results (draw_id, object_type, object_id);

do $$
declare
    t text;
begin
    foreach t in array array[
        'seed_commitments', 'seed_escrow', 'snapshots', 'draws', 'draw_strata',
        'draw_objects', 'draw_inspectors', 'inspection_results'
    ] loop
        execute format(
            'create or replace trigger %I before update or delete on sampling.%I '
            'for each row execute function sampling.reject_change()',
            t || '_immutable', t
        );
        execute format(
            'create or replace trigger %I before truncate on sampling.%I '
            'for each statement execute function sampling.reject_change()',
            t || '_no_truncate', t
        );
    end loop;
end $$;

-- Readers: the published parts only (the seed escrow stays with the owner).
do $$
declare
    r text;
begin
    foreach r in array array['ggzy_auditor', 'ggzy_analyst', 'ggzy_superset'] loop
        if exists (select 1 from pg_roles where rolname = r) then
            execute format('grant usage on schema sampling to %I', r);
            execute format(
                'grant select on sampling.seed_commitments, sampling.snapshots, sampling.draws, '
                'sampling.draw_strata, sampling.draw_objects, sampling.draw_inspectors, '
                'sampling.inspection_results to %I', r
            );
        end if;
    end loop;
end $$;
