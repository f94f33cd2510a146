"""Alert lifecycle: risk signals of the marts become alerts that departments work on.

Why a table outside dbt: the marts are rebuilt every night, but an alert is a case file
that people change (acknowledge, verify, dismiss, transfer) and that must keep its
history. So `sync_alerts` upserts `marts.fct_risk_signals` (and the tracking-mode signals of
`marts.fct_watch_signals`) into `ops.alerts` by a stable id (md5 of
rule_id|subject_type|subject_id, = the marts' signal_id): a signal seen
again updates its alert (evidence, score, severity, department) and never raises a second
one; a signal that disappeared (data corrected) is marked inactive, never deleted. A sync
writes only the alerts it raises, changes, reactivates or clears (a night's work follows what
the night changed, not the number of alerts kept): last_seen_at and last_run_id name the last
sync that wrote the alert, and every active alert is in the marts as of the newest sync. Status
changes go through `set_status`, which checks the transition table and writes
`ops.alert_events` (who, when, from, to, note). DDL: ggzy/sql/030_alerts.sql.

Outcomes feed back through the view ops.rule_precision (verified vs dismissed per rule),
which dim_risk_rules reads as a source on the next dbt run: verified rules weigh more.
"""

from __future__ import annotations

from typing import Any

from ggzy import db

STATUSES = ("new", "acknowledged", "verified", "dismissed", "transferred")
TRANSFER_TARGETS = ("discipline_inspection", "police", "procuratorate", "court")  # 050_supervision.sql
SYNC_ACTOR = "ggzy sync"
_LOCK = 74290005  # one sync at a time (advisory lock id)

# Columns copied from the mart; a difference in any of them is an update of the alert.
_CONTENT = ("tender_id", "entity_ids", "expert_ids", "severity", "score", "signal_date", "evidence",
            "legal_basis", "department_code")

# The marts whose rows become alerts: the risk signals and the tracking-mode signals
# (跟踪模式: watched parties, key projects, 评定分离 lots; ggzy.supervision.watch).
SIGNAL_MARTS = ("marts.fct_risk_signals", "marts.fct_watch_signals")

_SYNC_SQL = f"""
with src as (
    {{sources}}
),
prev as (
    select
        a.alert_id,
        a.is_active,
        ({", ".join("a." + c for c in _CONTENT)}) is distinct from ({", ".join("s." + c for c in _CONTENT)})
            as changed
    from ops.alerts as a
    inner join src as s on a.alert_id = s.alert_id
),
upserted as (
    insert into ops.alerts as a (
        alert_id, rule_id, subject_type, subject_id, {", ".join(_CONTENT)},
        raised_run_id, last_run_id
    )
    select alert_id, rule_id, subject_type, subject_id, {", ".join(_CONTENT)}, %(run_id)s, %(run_id)s
    from src
    -- only what is new, changed or found again: rewriting every alert seen again cost the
    -- night a write of the whole table (85k rows, 5 s at scale 16) for rows equal to their
    -- mart rows; an unchanged alert keeps its row, last_seen_at and last_run_id included
    where not exists (select 1 from prev where prev.alert_id = src.alert_id and prev.is_active and not prev.changed)
    on conflict (alert_id) do update set
        {", ".join(f"{c} = excluded.{c}" for c in _CONTENT)},
        updated_at = case
            when ({", ".join("a." + c for c in _CONTENT)})
                is distinct from ({", ".join("excluded." + c for c in _CONTENT)})
                or not a.is_active
            then now() else a.updated_at end,
        is_active = true,
        last_seen_at = now(),
        last_run_id = excluded.last_run_id
    returning alert_id, (xmax = 0) as inserted
),
cleared as (
    update ops.alerts as a
    set is_active = false, updated_at = now(), last_run_id = %(run_id)s
    where a.is_active and not exists (select 1 from src where src.alert_id = a.alert_id)
    returning a.alert_id, a.status
),
events as (
    insert into ops.alert_events (alert_id, event, from_status, to_status, actor, note, run_id)
    select alert_id, 'raised', null, 'new', %(actor)s, null, %(run_id)s from upserted where inserted
    union all
    select alert_id, 'updated', null, null, %(actor)s, 'evidence or score changed', %(run_id)s
    from prev where changed and is_active
    union all
    select alert_id, 'reactivated', null, null, %(actor)s, 'signal found again', %(run_id)s
    from prev where not is_active
    union all
    select alert_id, 'cleared', status, status, %(actor)s, 'signal no longer in the marts', %(run_id)s
    from cleared
    returning 1
)
select
    (select count(*) from upserted where inserted) as raised,
    (select count(*) from prev where changed or not is_active) as updated,
    (select count(*) from prev where not changed and is_active) as unchanged,
    (select count(*) from cleared) as cleared,
    (select count(*) from events) as events
"""


def sync_alerts(url: str | None, run_id: str) -> dict[str, int]:
    """Raise new alerts and update existing ones from marts.fct_risk_signals (one statement,
    set-based). Idempotent: a rerun over unchanged marts reports everything unchanged."""
    with db.transaction(url) as conn:
        conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK,))
        # a warehouse built before the tracking mart existed syncs the risk signals alone
        marts = [m for m in SIGNAL_MARTS if conn.execute("select to_regclass(%s)", (m,)).fetchone()[0] is not None]
        sources = "\n    union all\n    ".join(
            f"select signal_id as alert_id, rule_id, subject_type, subject_id, {', '.join(_CONTENT)} from {m}"
            for m in marts)
        row = conn.execute(_SYNC_SQL.replace("{sources}", sources), {"run_id": run_id, "actor": SYNC_ACTOR}).fetchone()
    raised, updated, unchanged, cleared, _events = row
    return {"raised": raised, "updated": updated, "unchanged": unchanged, "cleared": cleared}


class AlertError(ValueError):
    """A status change that the lifecycle does not allow, or an unknown alert."""


def resolve_id(conn, alert_id: str) -> str:
    """Full alert id from a unique prefix (ids are md5 hex; 8 characters usually suffice)."""
    rows = conn.execute("select alert_id from ops.alerts where alert_id like %s || '%%' limit 2",
                        (alert_id.strip().lower(),)).fetchall()
    if not rows:
        raise AlertError(f"no alert with id {alert_id!r}")
    if len(rows) > 1:
        raise AlertError(f"alert id prefix {alert_id!r} is ambiguous; give more characters")
    return rows[0][0]


def allowed_transitions(url: str | None = None) -> dict[str, list[str]]:
    with db.connect(url) as conn:
        out: dict[str, list[str]] = {}
        for f, t in conn.execute("select from_status, to_status from ops.alert_transitions order by 1, 2"):
            out.setdefault(f, []).append(t)
        return out


def set_status(alert_id: str, status: str, by: str, note: str | None = None,
               transferred_to: str | None = None, url: str | None = None) -> dict[str, Any]:
    """Move an alert along its lifecycle and record who did it, when and why."""
    status = status.strip().lower()
    if status not in STATUSES:
        raise AlertError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    if not by or not by.strip():
        raise AlertError("say who makes the change (--by)")
    if status == "transferred":
        if transferred_to not in TRANSFER_TARGETS:
            raise AlertError(f"a transfer needs its target: --to {' | '.join(TRANSFER_TARGETS)}")
    elif transferred_to is not None:
        raise AlertError("--to is only for status 'transferred'")
    with db.transaction(url) as conn:
        full_id = resolve_id(conn, alert_id)
        (current,) = conn.execute("select status from ops.alerts where alert_id = %s for update",
                                  (full_id,)).fetchone()
        ok = conn.execute("select 1 from ops.alert_transitions where from_status = %s and to_status = %s",
                          (current, status)).fetchone()
        if not ok:
            nxt = [r[0] for r in conn.execute(
                "select to_status from ops.alert_transitions where from_status = %s order by 1", (current,))]
            raise AlertError(f"alert {full_id}: {current} -> {status} is not allowed"
                             f" (from {current}: {', '.join(nxt) or 'nothing'})")
        conn.execute(
            """update ops.alerts
               set status = %s, transferred_to = %s, status_changed_at = now(), status_changed_by = %s
               where alert_id = %s""",
            (status, transferred_to, by.strip(), full_id))
        full_note = note if not transferred_to else f"[to {transferred_to}] {note or ''}".strip()
        conn.execute(
            """insert into ops.alert_events (alert_id, event, from_status, to_status, actor, note)
               values (%s, 'status', %s, %s, %s, %s)""",
            (full_id, current, status, by.strip(), full_note))
    return {"alert_id": full_id, "from": current, "to": status, "by": by.strip(), "note": full_note}


def list_alerts(status: str | None = None, rule: str | None = None, department: str | None = None,
                active_only: bool = True, limit: int = 50, url: str | None = None) -> list[dict[str, Any]]:
    where, params = ["true"], []
    if status:
        where.append("a.status = %s")
        params.append(status)
    if rule:
        where.append("a.rule_id = %s")
        params.append(rule)
    if department:
        where.append("a.department_code = %s")
        params.append(department)
    if active_only:
        where.append("a.is_active")
    params.append(limit)
    sql = f"""
        select a.alert_id, a.rule_id, a.severity, a.status, a.subject_type, a.subject_id,
               a.department_code, a.score, a.signal_date, a.raised_at, a.is_active
        from ops.alerts as a
        where {' and '.join(where)}
        order by case a.severity when 'high' then 0 when 'medium' then 1 else 2 end,
                 a.signal_date desc nulls last, a.alert_id
        limit %s"""
    with db.connect(url) as conn:
        cur = conn.execute(sql, params)
        cols = [d.name for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def history(alert_id: str, url: str | None = None) -> list[dict[str, Any]]:
    with db.connect(url) as conn:
        full_id = resolve_id(conn, alert_id)
        cur = conn.execute(
            """select at, event, from_status, to_status, actor, note, run_id
               from ops.alert_events where alert_id = %s order by at, event_id""", (full_id,))
        cols = [d.name for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
