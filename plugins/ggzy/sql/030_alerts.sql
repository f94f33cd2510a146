-- Alerts (预警) raised from the risk marts, with their lifecycle and history (issue 5).
-- Idempotent: safe to run again. Written by ggzy.alerts (sync_alerts, set_status).
--
-- One alert per rule x subject: alert_id = md5(rule_id|subject_type|subject_id), the same
-- id as marts.fct_risk_signals.signal_id, so a signal seen again on a later run updates
-- its alert and never raises a second one. The wording is "risk signal" (风险信号): an
-- alert asks a department to look, it accuses nobody.
--
-- Lifecycle: new -> acknowledged -> verified | dismissed; verified -> transferred
-- (to discipline_inspection 纪检监察 or police 公安); dismissed -> acknowledged reopens.

create table if not exists ops.alert_transitions (
    from_status text not null,
    to_status   text not null,
    primary key (from_status, to_status)
);
comment on table ops.alert_transitions is
    'Allowed status changes of ops.alerts (checked by ggzy.alerts and by a trigger).';

insert into ops.alert_transitions (from_status, to_status) values
    ('new', 'acknowledged'),
    ('acknowledged', 'verified'),
    ('acknowledged', 'dismissed'),
    ('verified', 'transferred'),
    ('dismissed', 'acknowledged')
on conflict do nothing;

create table if not exists ops.alerts (
    alert_id          text        primary key,   -- md5(rule_id|subject_type|subject_id)
    rule_id           text        not null,
    subject_type      text        not null,      -- tender | entity | complaint | case
    subject_id        text        not null,
    tender_id         text,
    entity_ids        text[],
    expert_ids        text[],
    severity          text        not null,
    score             numeric,
    signal_date       date,
    evidence          jsonb       not null default '{}'::jsonb,
    legal_basis       text,
    department_code   text,                      -- responsible department (responsibility list)
    status            text        not null default 'new'
        check (status in ('new', 'acknowledged', 'verified', 'dismissed', 'transferred')),
    transferred_to    text
        check (transferred_to in ('discipline_inspection', 'police')),
    is_active         boolean     not null default true,  -- false: the signal is gone from the marts
    raised_at         timestamptz not null default now(),
    raised_run_id     text,
    updated_at        timestamptz not null default now(), -- last change of the signal's content
    last_seen_at      timestamptz not null default now(),
    last_run_id       text,
    status_changed_at timestamptz,
    status_changed_by text,
    unique (rule_id, subject_type, subject_id),
    constraint alerts_transfer_target check ((status = 'transferred') = (transferred_to is not null))
);
comment on table ops.alerts is
    'Risk-signal alerts (风险预警), one per rule x subject, raised once by sync_alerts and updated on later runs; lifecycle new -> acknowledged -> verified|dismissed -> transferred.';

create index if not exists alerts_status_idx on ops.alerts (status, rule_id);
create index if not exists alerts_department_idx on ops.alerts (department_code, status);
create index if not exists alerts_tender_idx on ops.alerts (tender_id);
create index if not exists alerts_entity_ids_idx on ops.alerts using gin (entity_ids);

create table if not exists ops.alert_events (
    event_id    bigint      generated always as identity primary key,
    alert_id    text        not null references ops.alerts (alert_id),
    event       text        not null check (event in ('raised', 'updated', 'cleared', 'reactivated', 'status')),
    from_status text,
    to_status   text,
    actor       text        not null,            -- a person's name, or 'ggzy sync' for the nightly run
    note        text,
    run_id      text,
    at          timestamptz not null default now()
);
comment on table ops.alert_events is
    'History of every alert: raised, content updated, cleared/reactivated by the nightly sync, and each status change (who, when, from, to, note).';

create index if not exists alert_events_alert_idx on ops.alert_events (alert_id, at);

-- Status changes must follow ops.alert_transitions, whoever makes them (CLI, Superset, psql).
create or replace function ops.check_alert_transition() returns trigger
language plpgsql as $$
begin
    if new.status is distinct from old.status and not exists (
        select 1 from ops.alert_transitions t
        where t.from_status = old.status and t.to_status = new.status
    ) then
        raise exception 'alert %: status % -> % is not allowed', old.alert_id, old.status, new.status
            using errcode = 'check_violation';
    end if;
    return new;
end;
$$;

drop trigger if exists alerts_transition_check on ops.alerts;
create trigger alerts_transition_check
    before update of status on ops.alerts
    for each row execute function ops.check_alert_transition();

-- Outcome feedback: how often a rule's alerts were confirmed once a department looked.
-- precision_estimate = (verified + 1) / (verified + dismissed + 2) (Laplace: 0.5 without
-- outcomes); weight_multiplier = 0.5 + precision_estimate, from 0.5 (always dismissed) to
-- 1.5 (always verified), 1.0 while nothing is known. The risk marts multiply each rule's
-- configured weight by it (marts.dim_risk_rules), so verified rules weigh more.
create or replace view ops.rule_precision as
select
    rule_id,
    count(*) as n_alerts,
    count(*) filter (where status in ('verified', 'transferred')) as n_verified,
    count(*) filter (where status = 'dismissed') as n_dismissed,
    (count(*) filter (where status in ('verified', 'transferred')) + 1.0)
        / (count(*) filter (where status in ('verified', 'transferred', 'dismissed')) + 2.0) as precision_estimate,
    0.5 + (count(*) filter (where status in ('verified', 'transferred')) + 1.0)
        / (count(*) filter (where status in ('verified', 'transferred', 'dismissed')) + 2.0) as weight_multiplier
from ops.alerts
group by rule_id;
comment on view ops.rule_precision is
    'Per rule: verified vs dismissed alerts, Laplace-smoothed precision and the weight multiplier (0.5..1.5) used by the risk scores.';
