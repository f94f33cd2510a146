-- Supervision after the alert (issue 20): notifications, the clue register (问题线索) with
-- joint verification and transfers, special inspections (专项检查), the office's watch list
-- (跟踪模式), case decisions and credit repairs that become credit records going out.
-- Idempotent: safe to run again. Written by ggzy.supervision.* (and the `ggzy` commands
-- clues, inspections, watch, credit); read by dbt as sources (models/marts/supervision).
-- Every table keeps who did what and when: these are case files, never rewritten.

-- Transfers (移送) reach all four receiving bodies named by the Anyang opinion (七):
-- 纪检监察, 公安, 检察, 法院. The alert's own transfer target is widened to match.
alter table ops.alerts drop constraint if exists alerts_transferred_to_check;
alter table ops.alerts add constraint alerts_transferred_to_check
    check (transferred_to in ('discipline_inspection', 'police', 'procuratorate', 'court'));

-- ---------------------------------------------------------------- notifications (触发式监管)
-- One row per alert notified: the primary key makes "notify once" a database fact, so a
-- rerun of the night (or two runs at once) never notifies a department twice. A failed
-- delivery is kept with delivered = false and retried on the next run.
create table if not exists ops.alert_notifications (
    alert_id        text        primary key references ops.alerts (alert_id),
    department_code text,
    severity        text        not null,
    channel         text        not null check (channel in ('webhook', 'email')),
    recipient       text        not null,          -- the webhook host or the e-mail address (no secrets)
    message         text        not null,          -- what was sent: evidence and legal basis in Chinese
    delivered       boolean     not null,
    error           text,
    attempts        integer     not null default 1,
    run_id          text,
    first_tried_at  timestamptz not null default now(),
    sent_at         timestamptz                    -- when it was delivered
);
comment on table ops.alert_notifications is
    'Trigger-based supervision (触发式监管): each alert at or above the configured severity notified to its department once.';

-- ---------------------------------------------------------------- clue register (问题线索)
create table if not exists ops.clue_transitions (
    from_status text not null,
    to_status   text not null,
    primary key (from_status, to_status)
);
comment on table ops.clue_transitions is
    'Allowed status changes of ops.clues (checked by ggzy.supervision.clues and by a trigger).';

insert into ops.clue_transitions (from_status, to_status) values
    ('registered', 'verifying'),
    ('verifying', 'confirmed'),
    ('verifying', 'unfounded'),
    ('unfounded', 'verifying'),
    ('confirmed', 'transferred'),
    ('confirmed', 'decided'),
    ('transferred', 'decided'),
    ('transferred', 'concluded'),
    ('decided', 'concluded')
on conflict do nothing;

create table if not exists ops.clues (
    clue_id           text        primary key,   -- 'XS' || first 10 hex of md5(source_type|source_id)
    source_type       text        not null
        check (source_type in ('alert', 'complaint', 'sampling', 'special_inspection')),
    source_id         text        not null,
    title             text        not null,
    tender_id         text,
    entity_ids        text[],
    expert_ids        text[],
    legal_basis       text,
    evidence          jsonb       not null default '{}'::jsonb,
    status            text        not null default 'registered'
        check (status in ('registered', 'verifying', 'confirmed', 'unfounded', 'transferred', 'decided', 'concluded')),
    registered_at     timestamptz not null default now(),
    registered_by     text        not null,
    status_changed_at timestamptz,
    status_changed_by text,
    unique (source_type, source_id)
);
comment on table ops.clues is
    'Problem clues (问题线索) from alerts, upheld complaints, 双随机 findings and special inspections; lifecycle registered -> verifying -> confirmed|unfounded -> transferred|decided -> concluded.';

-- Joint verification (联合核查): one lead department and any number of joint ones.
create table if not exists ops.clue_departments (
    clue_id         text        not null references ops.clues (clue_id),
    department_code text        not null,
    role            text        not null check (role in ('lead', 'joint')),
    assigned_at     timestamptz not null default now(),
    assigned_by     text        not null,
    finding         text,                        -- what this department found
    finding_at      timestamptz,
    finding_by      text,
    primary key (clue_id, department_code),
    check ((finding is null) = (finding_at is null))
);
create unique index if not exists clue_departments_one_lead on ops.clue_departments (clue_id) where role = 'lead';

-- Transfers (移送) with the receiving body's receipt (回执) and outcome (办理结果).
create table if not exists ops.clue_transfers (
    clue_id        text        not null references ops.clues (clue_id),
    target         text        not null check (target in ('discipline_inspection', 'police', 'procuratorate', 'court')),
    transferred_at timestamptz not null default now(),
    transferred_by text        not null,
    reference_no   text,                          -- 移送函文号
    receipt_at     timestamptz,
    receipt_by     text,                          -- who signed the receipt at the receiving body
    receipt_no     text,
    outcome        text,
    outcome_at     timestamptz,
    outcome_by     text,
    primary key (clue_id, target),
    check (receipt_at is null or receipt_at >= transferred_at),
    check ((receipt_at is null) = (receipt_by is null)),
    check (outcome_at is null or (receipt_at is not null and outcome_at >= receipt_at)),
    check ((outcome is null) = (outcome_at is null))
);

create table if not exists ops.clue_events (
    event_id    bigint      generated always as identity primary key,
    clue_id     text        not null references ops.clues (clue_id),
    event       text        not null
        check (event in ('registered', 'status', 'department', 'finding', 'transfer', 'receipt', 'outcome', 'decision')),
    from_status text,
    to_status   text,
    actor       text        not null,
    note        text,
    at          timestamptz not null default now()
);
create index if not exists clue_events_clue_idx on ops.clue_events (clue_id, at);

-- The lifecycle holds whoever writes (CLI, psql): allowed moves only, verification needs a
-- lead department, a transfer status needs a transfer, concluding a transferred clue needs
-- every receiving body's outcome.
create or replace function ops.check_clue_transition() returns trigger
language plpgsql as $$
begin
    if new.status is not distinct from old.status then
        return new;
    end if;
    if not exists (select 1 from ops.clue_transitions t where t.from_status = old.status and t.to_status = new.status) then
        raise exception 'clue %: status % -> % is not allowed', old.clue_id, old.status, new.status
            using errcode = 'check_violation';
    end if;
    if new.status = 'verifying'
        and not exists (select 1 from ops.clue_departments d where d.clue_id = new.clue_id and d.role = 'lead') then
        raise exception 'clue %: verification needs a lead department', new.clue_id using errcode = 'check_violation';
    end if;
    if new.status = 'transferred'
        and not exists (select 1 from ops.clue_transfers x where x.clue_id = new.clue_id) then
        raise exception 'clue %: no transfer recorded', new.clue_id using errcode = 'check_violation';
    end if;
    if new.status = 'concluded'
        and exists (select 1 from ops.clue_transfers x where x.clue_id = new.clue_id and x.outcome is null) then
        raise exception 'clue %: a receiving body has not reported its outcome', new.clue_id
            using errcode = 'check_violation';
    end if;
    return new;
end;
$$;

drop trigger if exists clues_transition_check on ops.clues;
create trigger clues_transition_check
    before update of status on ops.clues
    for each row execute function ops.check_clue_transition();

-- ---------------------------------------------------------------- case decisions and credit
-- The office's own case decisions (处理决定) on confirmed clues; the trading centre's cases
-- feed carries the departments' other decisions. Both become credit records (不良行为记录).
create table if not exists ops.case_decisions (
    decision_id  text        primary key,          -- the decision's document number (文号)
    clue_id      text        references ops.clues (clue_id),
    tender_id    text,
    subject_type text        not null check (subject_type in ('bidder', 'expert', 'agency', 'tenderer')),
    subject_id   text        not null,
    violation    text        not null check (violation in ('collusion', 'fraud', 'bribery', 'expert_misconduct', 'other')),
    penalty      text        not null,
    decided_by   text        not null,             -- department code
    decided_at   timestamptz not null,
    recorded_by  text        not null,
    recorded_at  timestamptz not null default now()
);

-- Credit repair (信用修复) granted by the department, reported to the office: withdraws the
-- 不良行为公示 of that record (as a Credit China revocation does).
create table if not exists ops.credit_repairs (
    record_id   text        primary key,           -- marts.fct_bad_conduct_records.record_id
    repaired_on date        not null,
    approved_by text        not null,              -- department code
    note        text,
    recorded_by text        not null,
    recorded_at timestamptz not null default now()
);

-- Each export file for the provincial credit system, with its checksum (上传留痕).
create table if not exists ops.credit_exports (
    export_id   bigint      generated always as identity primary key,
    file_name   text        not null,
    n_records   integer     not null,
    sha256      text        not null,
    exported_at timestamptz not null default now(),
    exported_by text        not null
);

-- ---------------------------------------------------------------- special inspections (专项检查)
create table if not exists ops.special_inspections (
    inspection_id   text        primary key,
    title           text        not null,
    scope           text        not null,          -- what is inspected (范围)
    lead_department text        not null,
    departments     text[]      not null default '{}',
    period_start    date        not null,
    period_end      date        not null,
    created_by      text        not null,
    created_at      timestamptz not null default now(),
    check (period_end >= period_start)
);

create table if not exists ops.special_inspection_targets (
    inspection_id text        not null references ops.special_inspections (inspection_id),
    target_type   text        not null check (target_type in ('tender', 'entity', 'expert', 'project')),
    target_id     text        not null,
    added_by      text        not null,
    added_at      timestamptz not null default now(),
    primary key (inspection_id, target_type, target_id)
);

create table if not exists ops.special_inspection_findings (
    finding_id    bigint      generated always as identity primary key,
    inspection_id text        not null,
    target_type   text        not null,
    target_id     text        not null,
    found_on      date        not null,
    finding       text        not null,
    legal_basis   text,
    is_problem    boolean     not null,            -- true: a problem, becomes a clue
    recorded_by   text        not null,
    recorded_at   timestamptz not null default now(),
    foreign key (inspection_id, target_type, target_id)
        references ops.special_inspection_targets (inspection_id, target_type, target_id)
);

-- ---------------------------------------------------------------- watch list (跟踪模式)
create table if not exists ops.watch_list (
    party_type   text        not null check (party_type in ('project', 'entity', 'expert')),
    party_id     text        not null,
    reason       text        not null,
    watch_from   date        not null,             -- lots on or after this date raise an alert
    is_active    boolean     not null default true,
    added_at     timestamptz not null default now(),
    added_by     text        not null,
    removed_at   timestamptz,
    removed_by   text,
    primary key (party_type, party_id)
);

create table if not exists ops.watch_events (
    event_id   bigint      generated always as identity primary key,
    party_type text        not null,
    party_id   text        not null,
    event      text        not null check (event in ('add', 'remove')),
    actor      text        not null,
    note       text,
    at         timestamptz not null default now()
);
