"""The problem-clue register (问题线索): one register fed by alerts, upheld complaints, 双随机
inspection findings and special inspections (Yunnan 2020 (十), Xuan'en 三（三）).

A clue is verified by a lead department and any joint ones (联合核查); when confirmed it is
decided by a department or transferred (移送) to 纪检监察, 公安, 检察 or 法院 (Anyang (七)),
whose receipt (回执) and outcome are recorded. The lifecycle is enforced by the database
(trigger on ops.clues, 050_supervision.sql), so psql cannot skip a step either; every step is
written to ops.clue_events with who and when.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from ggzy import db
from ggzy.supervision import SupervisionError, require_actor

STATUSES = ("registered", "verifying", "confirmed", "unfounded", "transferred", "decided", "concluded")
TARGETS = ("discipline_inspection", "police", "procuratorate", "court")
VIOLATIONS = ("collusion", "fraud", "bribery", "expert_misconduct", "other")
SUBJECT_TYPES = ("bidder", "expert", "agency", "tenderer")
SYNC_ACTOR = "ggzy sync"
_LOCK = 74290021

# Clues from each source, set-based; a source object is registered once (unique
# source_type, source_id). `lead` is the department answerable for verification.
_SOURCES = {
    "alert": """
        select 'alert' as source_type, a.alert_id as source_id,
               coalesce(r.name_zh, a.rule_id) || '：' || a.subject_id as title,
               a.tender_id, a.entity_ids, a.expert_ids, a.legal_basis, a.evidence,
               a.department_code as lead, '{}'::text[] as joint
        from ops.alerts as a
        left join (select rule_id, name_zh from marts.dim_risk_rules
                   union all select rule_id, name_zh from reference.tracking_rules) as r on a.rule_id = r.rule_id
        where a.status in ('verified', 'transferred')""",
    "complaint": """
        select 'complaint', c.complaint_id,
               case c.kind when 'report' then '举报属实：' else '投诉属实：' end || c.complaint_id,
               c.tender_id, null::text[], null::text[], '《招标投标法实施条例》第60-62条（投诉处理）',
               jsonb_build_object('outcome', c.outcome, 'received_at', c.received_at, 'resolved_at', c.resolved_at),
               coalesce(fwd.code, rcv.code), '{}'::text[]
        from staging.stg_trading_centre__complaints as c
        left join reference.departments as fwd on c.forwarded_to = fwd.code
        left join reference.departments as rcv on c.received_by = rcv.code
        where c.outcome in ('upheld', 'partly_upheld')""",
    "sampling": """
        select 'sampling', r.result_id::text,
               '双随机一公开检查发现问题：' || r.object_type || ' ' || r.object_id,
               case when r.object_type = 'tender' then r.object_id end,
               case when r.object_type = 'entity' then array[r.object_id] end, null::text[],
               '云南省公共资源交易联席会议办公室通知（2020）（十）：双随机一公开联合执法中发现的问题和线索',
               jsonb_build_object('draw_id', r.draw_id, 'outcome', r.outcome, 'finding', r.finding,
                                  'inspected_on', r.inspected_on),
               i.department_code, '{}'::text[]
        from (
            select distinct on (draw_id, object_type, object_id) *
            from sampling.inspection_results
            order by draw_id, object_type, object_id, recorded_at desc, result_id desc
        ) as r
        left join sampling.draw_inspectors as i
            on r.draw_id = i.draw_id and r.object_type = i.object_type and r.object_id = i.object_id and i.slot = 1
        where r.outcome in ('issue_found', 'referred')""",
    "special_inspection": """
        select 'special_inspection', f.finding_id::text,
               s.title || '：' || f.finding,
               case when f.target_type = 'tender' then f.target_id end,
               case when f.target_type = 'entity' then array[f.target_id] end,
               case when f.target_type = 'expert' then array[f.target_id] end,
               f.legal_basis,
               jsonb_build_object('inspection_id', s.inspection_id, 'target', f.target_type || ':' || f.target_id,
                                  'found_on', f.found_on, 'finding', f.finding),
               s.lead_department, array_remove(s.departments, s.lead_department)
        from ops.special_inspection_findings as f
        inner join ops.special_inspections as s on f.inspection_id = s.inspection_id
        where f.is_problem""",
}

_REGISTER_SQL = """
with src (source_type, source_id, title, tender_id, entity_ids, expert_ids, legal_basis, evidence, lead, joint) as (
    {union}
),
new as (
    insert into ops.clues (clue_id, source_type, source_id, title, tender_id, entity_ids, expert_ids,
                           legal_basis, evidence, registered_by)
    select 'XS' || upper(left(md5(source_type || '|' || source_id), 10)), source_type, source_id, title, tender_id,
           entity_ids, expert_ids, legal_basis, coalesce(evidence, '{{}}'::jsonb), %(actor)s
    from src
    on conflict (source_type, source_id) do nothing
    returning clue_id, source_type, source_id
),
depts as (
    insert into ops.clue_departments (clue_id, department_code, role, assigned_by)
    select new.clue_id, d.code, d.role, %(actor)s
    from new
    inner join src on new.source_type = src.source_type and new.source_id = src.source_id
    cross join lateral (
        select src.lead as code, 'lead' as role where src.lead is not null
        union
        select j, 'joint' from unnest(src.joint) as j where j is distinct from src.lead
    ) as d
    returning clue_id
),
events as (
    insert into ops.clue_events (clue_id, event, to_status, actor, note)
    select clue_id, 'registered', 'registered', %(actor)s, source_type || ' ' || source_id from new
    returning 1
)
select source_type, count(*) from new group by source_type
"""


def register_clues(url: str | None = None, actor: str = SYNC_ACTOR) -> dict[str, int]:
    """Register every source object that is a problem and has no clue yet. Idempotent."""
    present = []
    with db.transaction(url) as conn:
        conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK,))
        for name, sql in _SOURCES.items():
            # a source whose tables are not built yet (a warehouse before its first dbt run) has no clues
            needs = {"alert": ("marts.dim_risk_rules", "reference.tracking_rules"),
                     "complaint": ("staging.stg_trading_centre__complaints",)}.get(name, ())
            if all(conn.execute("select to_regclass(%s)", (t,)).fetchone()[0] is not None for t in needs):
                present.append(sql)
        rows = conn.execute(_REGISTER_SQL.format(union="\nunion all\n".join(present)), {"actor": actor}).fetchall()
    counts = dict.fromkeys(_SOURCES, 0) | {k: v for k, v in rows}
    return counts


def open_from_alert(alert_id: str, by: str, url: str | None = None) -> str:
    """The office escalates an alert to a clue before the department has verified it."""
    from ggzy.alerts import AlertError, resolve_id

    by = require_actor(by)
    with db.transaction(url) as conn:
        try:
            full = resolve_id(conn, alert_id)
        except AlertError as exc:
            raise SupervisionError(str(exc)) from exc
        sql = _REGISTER_SQL.format(union=_SOURCES["alert"].replace(
            "where a.status in ('verified', 'transferred')", "where a.alert_id = %(alert_id)s"))
        conn.execute(sql, {"actor": by, "alert_id": full})
        row = conn.execute("select clue_id from ops.clues where source_type = 'alert' and source_id = %s",
                           (full,)).fetchone()
    return row[0]


def _clue(conn, clue_id: str) -> tuple[str, str]:
    rows = conn.execute("select clue_id, status from ops.clues where clue_id like %s || '%%' limit 2 for update",
                        (clue_id.strip().upper(),)).fetchall()
    if not rows:
        raise SupervisionError(f"no clue with id {clue_id!r}")
    if len(rows) > 1:
        raise SupervisionError(f"clue id prefix {clue_id!r} is ambiguous")
    return rows[0]


def _event(conn, clue_id, event, actor, note=None, from_status=None, to_status=None) -> None:
    conn.execute("""insert into ops.clue_events (clue_id, event, from_status, to_status, actor, note)
                    values (%s, %s, %s, %s, %s, %s)""", (clue_id, event, from_status, to_status, actor, note))


def _move(conn, clue_id: str, current: str, status: str, by: str, note: str | None) -> None:
    if current == status:
        return
    try:
        with conn.transaction():
            conn.execute("""update ops.clues set status = %s, status_changed_at = now(), status_changed_by = %s
                            where clue_id = %s""", (status, by, clue_id))
    except psycopg.errors.CheckViolation as exc:
        nxt = [r[0] for r in conn.execute(
            "select to_status from ops.clue_transitions where from_status = %s order by 1", (current,))]
        raise SupervisionError(f"{exc.diag.message_primary} (from {current}: {', '.join(nxt) or 'nothing'})") from exc
    _event(conn, clue_id, "status", by, note, current, status)


def set_status(clue_id: str, status: str, by: str, note: str | None = None, url: str | None = None) -> dict:
    by = require_actor(by)
    if status not in STATUSES:
        raise SupervisionError(f"unknown clue status {status!r}; one of {', '.join(STATUSES)}")
    with db.transaction(url) as conn:
        full, current = _clue(conn, clue_id)
        _move(conn, full, current, status, by, note)
    return {"clue_id": full, "from": current, "to": status}


def _department(conn, code: str) -> str:
    if not conn.execute("select 1 from reference.departments where code = %s", (code,)).fetchone():
        raise SupervisionError(f"unknown department {code!r} (codes in reference.departments, e.g. 530100-HOUSING)")
    return code


def assign(clue_id: str, department: str, by: str, role: str = "joint", url: str | None = None) -> str:
    """Add a department to the verification of a clue (lead, or joint: 联合核查)."""
    by = require_actor(by)
    if role not in ("lead", "joint"):
        raise SupervisionError("role is lead or joint")
    with db.transaction(url) as conn:
        full, status = _clue(conn, clue_id)
        if status in ("concluded",):
            raise SupervisionError(f"clue {full} is concluded")
        code = _department(conn, department)
        if role == "lead":
            conn.execute("delete from ops.clue_departments where clue_id = %s and role = 'lead' and finding is null",
                         (full,))
        try:
            with conn.transaction():
                conn.execute("""insert into ops.clue_departments (clue_id, department_code, role, assigned_by)
                                values (%s, %s, %s, %s)""", (full, code, role, by))
        except (psycopg.errors.UniqueViolation, psycopg.errors.IntegrityError) as exc:
            raise SupervisionError(f"clue {full}: {code} is already assigned, or it has a lead with a finding") from exc
        _event(conn, full, "department", by, f"{role} {code}")
    return full


def record_finding(clue_id: str, department: str, finding: str, by: str, url: str | None = None) -> str:
    """What one verifying department found (each department of a joint verification reports)."""
    by = require_actor(by)
    if not finding.strip():
        raise SupervisionError("the finding is empty")
    with db.transaction(url) as conn:
        full, _ = _clue(conn, clue_id)
        n = conn.execute("""update ops.clue_departments set finding = %s, finding_at = now(), finding_by = %s
                            where clue_id = %s and department_code = %s""", (finding, by, full, department)).rowcount
        if not n:
            raise SupervisionError(f"clue {full}: {department} is not verifying it (ggzy clues assign first)")
        _event(conn, full, "finding", by, f"{department}: {finding}")
    return full


def transfer(clue_id: str, target: str, by: str, reference_no: str | None = None, note: str | None = None,
             url: str | None = None) -> str:
    """Transfer (移送) a confirmed clue to a receiving body; the clue becomes 'transferred'."""
    by = require_actor(by)
    if target not in TARGETS:
        raise SupervisionError(f"unknown transfer target {target!r}; one of {', '.join(TARGETS)}")
    with db.transaction(url) as conn:
        full, status = _clue(conn, clue_id)
        if status not in ("confirmed", "transferred"):
            raise SupervisionError(f"clue {full} is {status}: only a confirmed clue is transferred")
        try:
            with conn.transaction():
                conn.execute("""insert into ops.clue_transfers (clue_id, target, transferred_by, reference_no)
                                values (%s, %s, %s, %s)""", (full, target, by, reference_no))
        except psycopg.errors.UniqueViolation as exc:
            raise SupervisionError(f"clue {full} was already transferred to {target}") from exc
        _event(conn, full, "transfer", by, f"{target} {reference_no or ''} {note or ''}".strip())
        _move(conn, full, status, "transferred", by, f"to {target}")
    return full


def _transfer_step(clue_id: str, target: str, by: str, sets: str, params: tuple, event: str, note: str,
                   url: str | None) -> str:
    with db.transaction(url) as conn:
        full, _ = _clue(conn, clue_id)
        try:
            with conn.transaction():
                n = conn.execute(f"update ops.clue_transfers set {sets} where clue_id = %s and target = %s",
                                 (*params, full, target)).rowcount
        except psycopg.errors.CheckViolation as exc:
            raise SupervisionError(f"clue {full} -> {target}: {event} before its transfer or receipt "
                                   f"({exc.diag.constraint_name})") from exc
        if not n:
            raise SupervisionError(f"clue {full} was not transferred to {target}")
        _event(conn, full, event, by, f"{target}: {note}")
    return full


def record_receipt(clue_id: str, target: str, receipt_by: str, by: str, receipt_no: str | None = None,
                   at: dt.datetime | None = None, url: str | None = None) -> str:
    """The receiving body's receipt (回执): who signed it there, its number, when."""
    by = require_actor(by)
    receipt_by = require_actor(receipt_by)
    return _transfer_step(clue_id, target, by, "receipt_at = coalesce(%s, now()), receipt_by = %s, receipt_no = %s",
                          (at, receipt_by, receipt_no), "receipt", f"{receipt_by} {receipt_no or ''}".strip(), url)


def record_outcome(clue_id: str, target: str, outcome: str, outcome_by: str, by: str,
                   at: dt.datetime | None = None, url: str | None = None) -> str:
    """The receiving body's outcome (办理结果), e.g. 立案侦查 or 不予立案."""
    by = require_actor(by)
    outcome_by = require_actor(outcome_by)
    if not outcome.strip():
        raise SupervisionError("the outcome is empty")
    return _transfer_step(clue_id, target, by, "outcome = %s, outcome_at = coalesce(%s, now()), outcome_by = %s",
                          (outcome, at, outcome_by), "outcome", outcome, url)


def decide(clue_id: str, decision_id: str, subject_type: str, subject_id: str, violation: str, penalty: str,
           department: str, by: str, decided_at: dt.datetime | None = None, url: str | None = None) -> str:
    """Record the case decision (处理决定) on a clue: it becomes a credit record (不良行为记录)."""
    by = require_actor(by)
    if subject_type not in SUBJECT_TYPES:
        raise SupervisionError(f"subject type {subject_type!r}: one of {', '.join(SUBJECT_TYPES)}")
    if violation not in VIOLATIONS:
        raise SupervisionError(f"violation {violation!r}: one of {', '.join(VIOLATIONS)}")
    if not decision_id.strip() or not penalty.strip():
        raise SupervisionError("a decision needs its document number and the penalty")
    with db.transaction(url) as conn:
        full, status = _clue(conn, clue_id)
        if status not in ("confirmed", "transferred", "decided"):  # one decision per party: several may follow
            raise SupervisionError(f"clue {full} is {status}: only a confirmed or transferred clue is decided")
        _department(conn, department)
        tender = conn.execute("select tender_id from ops.clues where clue_id = %s", (full,)).fetchone()[0]
        try:
            with conn.transaction():
                conn.execute(
                    """insert into ops.case_decisions (decision_id, clue_id, tender_id, subject_type, subject_id,
                           violation, penalty, decided_by, decided_at, recorded_by)
                       values (%s, %s, %s, %s, %s, %s, %s, %s, coalesce(%s, now()), %s)""",
                    (decision_id.strip(), full, tender, subject_type, subject_id, violation, penalty, department,
                     decided_at, by))
        except psycopg.errors.UniqueViolation as exc:
            raise SupervisionError(f"decision {decision_id} is already recorded") from exc
        _event(conn, full, "decision", by, f"{decision_id} {subject_id} {violation}: {penalty}")
        _move(conn, full, status, "decided", by, decision_id)
    return full


def show(clue_id: str, url: str | None = None) -> dict[str, Any]:
    with db.connect(url) as conn:
        full, _ = _clue(conn, clue_id)

        def rows(sql):
            cur = conn.execute(sql, (full,))
            cols = [d.name for d in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

        return {
            "clue": rows("select * from ops.clues where clue_id = %s")[0],
            "departments": rows("select * from ops.clue_departments where clue_id = %s order by role desc, 2"),
            "transfers": rows("select * from ops.clue_transfers where clue_id = %s order by transferred_at"),
            "decisions": rows("select * from ops.case_decisions where clue_id = %s order by decided_at"),
            "events": rows("select at, event, from_status, to_status, actor, note from ops.clue_events"
                           " where clue_id = %s order by at, event_id"),
        }


def list_clues(status: str | None = None, source: str | None = None, limit: int = 50,
               url: str | None = None) -> list[dict[str, Any]]:
    where, params = ["true"], []
    if status:
        where.append("c.status = %s")
        params.append(status)
    if source:
        where.append("c.source_type = %s")
        params.append(source)
    params.append(limit)
    with db.connect(url) as conn:
        cur = conn.execute(f"""
            select c.clue_id, c.source_type, c.status, c.title, c.registered_at,
                   (select string_agg(d.department_code || case when d.role = 'lead' then '*' else '' end, ',')
                    from ops.clue_departments as d where d.clue_id = c.clue_id) as departments
            from ops.clues as c where {' and '.join(where)}
            order by c.registered_at desc, c.clue_id limit %s""", params)
        cols = [d.name for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
