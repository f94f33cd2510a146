-- Raw layer: batch ledger, quarantine and the validation functions of the loader
-- (ggzy.feeds). The per-file raw tables themselves are derived from the feed
-- contract by ggzy.feeds.raw.ensure_raw_tables. Idempotent: safe to run again.

create table if not exists raw.batches (
    feed              text        not null,
    batch_date        date        not null,
    status            text        not null check (status in ('loaded', 'refused')),
    produced_at       timestamptz,
    manifest          jsonb,
    rows_delivered    bigint      not null default 0,
    rows_loaded       bigint      not null default 0,
    rows_quarantined  bigint      not null default 0,
    refusal           text,                 -- why the current delivery was refused (status = refused)
    last_refusal      text,                 -- newest refusal of this batch, even if an older delivery stays loaded
    last_refused_at   timestamptz,
    deliveries        integer     not null default 1,
    loaded_at         timestamptz not null default now(),
    duration          interval,
    primary key (feed, batch_date),
    constraint batches_balance check (rows_delivered = rows_loaded + rows_quarantined)
);
comment on table raw.batches is
    'Batch ledger: one row per (feed, batch_date), describing the delivery currently in raw. Balances: delivered = loaded + quarantined.';

create table if not exists raw.batch_files (
    feed              text   not null,
    batch_date        date   not null,
    file              text   not null,
    rows_manifest     bigint,
    rows_delivered    bigint not null,
    rows_loaded       bigint not null,
    rows_quarantined  bigint not null,
    quarantined_by_rule jsonb not null default '{}',
    extra_columns     text[] not null default '{}',
    blank_lines       bigint not null default 0,
    bytes             bigint,
    sha256            text,
    primary key (feed, batch_date, file),
    foreign key (feed, batch_date) references raw.batches on delete cascade,
    constraint batch_files_balance check (rows_delivered = rows_loaded + rows_quarantined)
);
comment on table raw.batch_files is 'Per-file counts of the current delivery of a batch (child of raw.batches).';

create table if not exists raw.batch_events (
    id          bigint generated always as identity primary key,
    feed        text        not null,
    batch_date  date        not null,
    event       text        not null,
    at          timestamptz not null default now(),
    file        text,
    message     text,
    rows_delivered   bigint,
    rows_loaded      bigint,
    rows_quarantined bigint,
    duration    interval,
    manifest    jsonb
);
create index if not exists batch_events_batch on raw.batch_events (feed, batch_date, at);
-- 'held': a batch dated after the loading horizon (tomorrow, Asia/Shanghai) was not
-- loaded (issue 16). Warehouses made before it only allowed the first three events.
do $$
begin
    if not exists (select 1 from pg_constraint where conrelid = 'raw.batch_events'::regclass
                   and conname = 'batch_events_event_check' and pg_get_constraintdef(oid) like '%held%') then
        alter table raw.batch_events drop constraint if exists batch_events_event_check;
        alter table raw.batch_events add constraint batch_events_event_check
            check (event in ('loaded', 'reloaded', 'refused', 'held'));
    end if;
end
$$;
comment on table raw.batch_events is 'History of every load attempt (loads, re-deliveries, refusals); never updated.';

create table if not exists raw.quarantine (
    feed        text        not null,
    batch_date  date        not null,
    file        text        not null,
    line        integer     not null,
    raw_record  jsonb,
    rule        text        not null,
    message     text        not null,
    loaded_at   timestamptz not null default now()
);
create index if not exists quarantine_batch on raw.quarantine (feed, batch_date, file, line);
comment on table raw.quarantine is
    'Rows that failed validation, with the rule and a message naming batch, file, line, column and value. Replaced with the batch.';

create schema if not exists ops;
create table if not exists ops.landing_problems (
    feed        text        not null,
    folder      text        not null,             -- the entry's name below <landing>/<feed>/
    problem     text        not null,
    first_seen  timestamptz not null default now(),
    last_seen   timestamptz not null default now(),
    primary key (feed, folder)
);
comment on table ops.landing_problems is
    'Entries of the landing zone that are not batches (a folder that is not a real YYYY-MM-DD date), reported by ggzy load.';

-- ---------------------------------------------------------------------------
-- Validation functions. SQL-language, immutable, so the planner inlines them.
-- The Python twins in ggzy.feeds.rules are the reference for tests.

create or replace function raw.ymd_ok(y integer, m integer, d integer) returns boolean
language sql immutable parallel safe as $$
    select m between 1 and 12 and y between 1 and 9999 and d between 1 and
        case when m = 2 then case when (y % 4 = 0 and y % 100 <> 0) or y % 400 = 0 then 29 else 28 end
             when m in (4, 6, 9, 11) then 30 else 31 end
$$;

-- YYYY-MM-DD and a real calendar day.
create or replace function raw.date_ok(v text) returns boolean
language sql immutable parallel safe as $$
    select case when v ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
                then raw.ymd_ok(substr(v, 1, 4)::int, substr(v, 6, 2)::int, substr(v, 9, 2)::int)
                else false end
$$;

-- GB 32100-2015: 18 characters; positions 3-8 the region code; check digit over
-- the alphabet without I, O, Z, S, V with weights 3^i mod 31.
create or replace function raw.uscc_ok(v text) returns boolean
language sql immutable parallel safe as $$
    select case when v ~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$' then
        substr('0123456789ABCDEFGHJKLMNPQRTUWXY', (31 - (
              (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(v, 1, 1)) - 1) * 1
            + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(v, 2, 1)) - 1) * 3
            + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(v, 3, 1)) - 1) * 9
            + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(v, 4, 1)) - 1) * 27
            + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(v, 5, 1)) - 1) * 19
            + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(v, 6, 1)) - 1) * 26
            + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(v, 7, 1)) - 1) * 16
            + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(v, 8, 1)) - 1) * 17
            + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(v, 9, 1)) - 1) * 20
            + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(v, 10, 1)) - 1) * 29
            + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(v, 11, 1)) - 1) * 25
            + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(v, 12, 1)) - 1) * 13
            + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(v, 13, 1)) - 1) * 8
            + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(v, 14, 1)) - 1) * 24
            + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(v, 15, 1)) - 1) * 10
            + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(v, 16, 1)) - 1) * 30
            + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(v, 17, 1)) - 1) * 28
        ) % 31) % 31 + 1, 1) = substr(v, 18, 1)
    else false end
$$;

-- GB 11643-1999: 17 digits + check (0-9 or X; a lower-case x is accepted as the
-- same number), ISO 7064 MOD 11-2; positions 7-14 a real birth date (1900-2099).
create or replace function raw.id_no_ok(v text) returns boolean
language sql immutable parallel safe as $$
    select case when v ~ '^[0-9]{17}[0-9Xx]$' then
        substr('10X98765432', (
              substr(v, 1, 1)::int * 7 + substr(v, 2, 1)::int * 9 + substr(v, 3, 1)::int * 10
            + substr(v, 4, 1)::int * 5 + substr(v, 5, 1)::int * 8 + substr(v, 6, 1)::int * 4
            + substr(v, 7, 1)::int * 2 + substr(v, 8, 1)::int * 1 + substr(v, 9, 1)::int * 6
            + substr(v, 10, 1)::int * 3 + substr(v, 11, 1)::int * 7 + substr(v, 12, 1)::int * 9
            + substr(v, 13, 1)::int * 10 + substr(v, 14, 1)::int * 5 + substr(v, 15, 1)::int * 8
            + substr(v, 16, 1)::int * 4 + substr(v, 17, 1)::int * 2
        ) % 11 + 1, 1) = upper(substr(v, 18, 1))
        and substr(v, 7, 4)::int between 1900 and 2099
        and raw.ymd_ok(substr(v, 7, 4)::int, substr(v, 11, 2)::int, substr(v, 13, 2)::int)
    else false end
$$;

-- 6 digits with a valid GB/T 2260 province-level prefix.
create or replace function raw.region_ok(v text) returns boolean
language sql immutable parallel safe as $$
    select v ~ '^[0-9]{6}$' and left(v, 2) in (
        '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
        '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65',
        '71', '81', '82')
$$;

create or replace function raw.region_list_ok(v text) returns boolean
language sql immutable parallel safe as $$
    select v ~ '^[0-9]{6}(;[0-9]{6})*$'
       and not exists (select 1 from unnest(string_to_array(v, ';')) e where not raw.region_ok(e))
$$;

-- Project code (一项一码) as typed by people: NFKC (full-width digits and '－'),
-- every dash-like character to '-', whitespace removed. dbt's
-- normalize_project_code macro may call this function.
create or replace function raw.normalize_project_code(v text) returns text
language sql immutable parallel safe as $$
    select regexp_replace(
        translate(normalize(v, NFKC), E'\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d\ufe63', '----------'),
        '[[:space:]]', '', 'g')
$$;

create or replace function raw.project_code_ok(v text) returns boolean
language sql immutable parallel safe as $$
    select raw.normalize_project_code(v) ~ '^[0-9]{4}-[0-9]{6}-[0-9]{2}-[0-9]{2}-[0-9]{6}$'
$$;

-- yuan: non-negative, at most 2 decimals, no leading zeros/sign/exponent, at most max_value.
create or replace function raw.money_ok(v text, max_value numeric) returns boolean
language sql immutable parallel safe as $$
    select case when v ~ '^(0|[1-9][0-9]{0,14})(\.[0-9]{1,2})?$' then v::numeric <= max_value else false end
$$;

-- The same on PG >= 16 without a regex (4x faster per row): numeric input, then
-- the value must print back exactly as delivered.
create or replace function raw.money_ok_fast(v text, max_value numeric) returns boolean
language sql stable parallel safe as $$
    select case when left(v, 1) collate "C" between '0' and '9' and v not like '%.___%' and pg_input_is_valid(v, 'numeric')
                then v::numeric::text = v and v::numeric <= max_value else false end
$$;

-- non-negative decimal, at most max_value.
create or replace function raw.number_ok(v text, max_value numeric) returns boolean
language sql immutable parallel safe as $$
    select case when v ~ '^[0-9]{1,15}(\.[0-9]{1,6})?$' then v::numeric <= coalesce(max_value, v::numeric) else false end
$$;

create or replace function raw.integer_ok(v text) returns boolean
language sql immutable parallel safe as $$
    select v ~ '^-?[0-9]{1,9}$'
$$;

-- Anything PostgreSQL's boolean input reads, spelled out in lower, upper or title
-- case (staging casts ::boolean). A hashed = ANY, no lower() per row.
create or replace function raw.bool_ok(v text) returns boolean
language sql immutable parallel safe as $$
    select v = any('{true,false,t,f,1,0,yes,no,y,n,on,off,TRUE,FALSE,T,F,YES,NO,Y,N,ON,OFF,True,False,Yes,No,On,Off}'::text[])
$$;

create or replace function raw.enum_list_ok(v text, allowed text[]) returns boolean
language sql immutable parallel safe as $$
    select not exists (select 1 from unnest(string_to_array(v, ';')) e where not e = any(allowed))
$$;

-- ISO-8601 timestamp: YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]][Z|+HH[:MM]]. The regex
-- gives the shape; PostgreSQL's input then checks the values (Feb 30, 25:00).
create or replace function raw.timestamp_shape_ok(v text) returns boolean
language sql immutable parallel safe as $$
    select v ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$'
$$;

-- PG >= 16: the usual exact shape (…T10:00:00+08:00) is recognised by LIKE and read
-- by pg_input_is_valid; anything else takes the regex. Same accepted set, 3x faster.
create or replace function raw.timestamp_ok_fast(v text) returns boolean
language sql stable parallel safe as $$
    select case when v like '____-__-__T__:__:__+__:__' or v like '____-__-__ __:__:__+__:__'
                then pg_input_is_valid(v, 'timestamptz') and v not like '%:__:__+__:__:%'
                else raw.timestamp_shape_ok(v) and pg_input_is_valid(v, 'timestamptz') end
$$;

-- PG 15 has no pg_input_is_valid: a try-cast per value (slow: one subtransaction
-- each), used only on distinct values. On PG >= 16 the loader uses pg_input_is_valid.
create or replace function raw.try_timestamptz(v text) returns boolean
language plpgsql immutable parallel safe strict as $$
begin
    perform v::timestamptz;
    return true;
exception when others then
    return false;
end
$$;

create or replace function raw.try_jsonb(v text) returns jsonb
language plpgsql immutable parallel safe strict as $$
begin
    return v::jsonb;
exception when others then
    return null;
end
$$;
