"""Trigger-based supervision (触发式监管, Anyang opinion (十四)): a new alert at or above the
configured severity is sent to its responsible department, once, with its evidence and
legal basis, through the notification connection AIRFLOW_CONN_GGZY_NOTIFY (webhook or
e-mail, ggzy.dag_support.deliver).

"Once" is kept by the database: ops.alert_notifications has one row per alert. A delivered
alert is never sent again, whatever reruns; a failed delivery is recorded and retried on
the next run; one run at a time (advisory lock), so two runs never send the same alert.
"""

from __future__ import annotations

import json
from typing import Any

from ggzy import db, settings

SEVERITIES = ("low", "medium", "high")
_LOCK = 74290020


def min_severity() -> str:
    """GGZY_NOTIFY_MIN_SEVERITY: low | medium | high (default high)."""
    value = settings.NOTIFY_MIN_SEVERITY.text().strip().lower()
    if value not in SEVERITIES:
        raise ValueError(f"GGZY_NOTIFY_MIN_SEVERITY={value!r}: one of {', '.join(SEVERITIES)}")
    return value


_PENDING_SQL = """
select
    a.alert_id, a.rule_id, r.name_zh as rule_name_zh, a.severity, a.subject_type, a.subject_id,
    a.tender_id, a.signal_date, a.evidence, a.legal_basis, a.department_code,
    d.name_zh as department_name, h.due_date as acknowledge_due_date, h.limit_workdays
from ops.alerts as a
left join ops.alert_notifications as n on a.alert_id = n.alert_id
left join (select rule_id, name_zh from marts.dim_risk_rules
           union all select rule_id, name_zh from reference.tracking_rules) as r on a.rule_id = r.rule_id
left join reference.departments as d on a.department_code = d.code
left join {handling} as h on a.alert_id = h.alert_id and h.stage = 'alert_acknowledge'
where a.is_active
  and a.status = 'new'
  and array_position(%(severities)s::text[], a.severity) >= array_position(%(severities)s::text[], %(min)s)
  and (n.alert_id is null or not n.delivered)
order by a.raised_at, a.alert_id
"""

_SEVERITY_ZH = {"high": "高", "medium": "中", "low": "低"}


def message(alert: dict[str, Any]) -> str:
    """The notice a department receives, in Chinese: what, where, evidence, legal basis, deadline."""
    evidence = alert["evidence"] or {}
    if isinstance(evidence, str):
        evidence = json.loads(evidence)
    lines = [
        f"【风险预警】{alert['rule_name_zh'] or alert['rule_id']}（风险等级：{_SEVERITY_ZH.get(alert['severity'], alert['severity'])}）",
        f"责任部门：{alert['department_name'] or alert['department_code'] or '未指定'}",
        f"预警对象：{alert['subject_type']} {alert['subject_id']}" + (f"；标段：{alert['tender_id']}" if alert["tender_id"] else ""),
        f"发现日期：{alert['signal_date'] or '-'}",
        "证据：" + ("；".join(f"{k}={v}" for k, v in sorted(evidence.items())) or "-"),
        f"法律依据：{alert['legal_basis'] or '-'}",
        f"预警编号：{alert['alert_id']}",
    ]
    if alert.get("acknowledge_due_date"):
        lines.append(f"请于{alert['acknowledge_due_date']}前签收（{alert['limit_workdays']}个工作日）："
                     f"ggzy alerts set {alert['alert_id'][:12]} acknowledged --by 姓名")
    lines.append("风险信号是核查的线索，不是认定结论。")
    return "\n".join(lines)


def notify_alerts(url: str | None, run_id: str | None = None) -> dict[str, Any]:
    """Send every pending alert at or above the configured severity; record each attempt.
    Returns counts: sent, failed, and skipped=True when no connection is configured."""
    from ggzy.dag_support import deliver

    if not settings.NOTIFY_CONN.is_set():
        return {"sent": 0, "failed": 0, "skipped": True, "min_severity": min_severity()}
    sent = failed = 0
    with db.connect(url) as conn:
        conn.execute("select pg_advisory_lock(%s)", (_LOCK,))
        try:
            # the deadline comes from the handling view; a night whose dbt build skipped it still notifies
            handling = ("marts.fct_alert_handling" if conn.execute("select to_regclass('marts.fct_alert_handling')")
                        .fetchone()[0] else "(select null::text as alert_id, null::text as stage,"
                        " null::date as due_date, null::int as limit_workdays)")
            cur = conn.execute(_PENDING_SQL.replace("{handling}", handling),
                               {"severities": list(SEVERITIES), "min": min_severity()})
            cols = [d.name for d in cur.description]
            pending = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
            conn.commit()
            for alert in pending:
                text = message(alert)
                fields = {k: alert[k] for k in ("alert_id", "rule_id", "severity", "department_code",
                                                 "department_name", "tender_id", "legal_basis", "evidence")}
                channel, recipient, error = deliver(text, fields)
                conn.execute(
                    """insert into ops.alert_notifications as n
                           (alert_id, department_code, severity, channel, recipient, message, delivered, error,
                            run_id, sent_at)
                       values (%s, %s, %s, %s, %s, %s, %s, %s, %s, case when %s then now() end)
                       on conflict (alert_id) do update set
                           channel = excluded.channel, recipient = excluded.recipient, message = excluded.message,
                           delivered = excluded.delivered, error = excluded.error, run_id = excluded.run_id,
                           sent_at = excluded.sent_at, attempts = n.attempts + 1
                       where not n.delivered""",
                    (alert["alert_id"], alert["department_code"], alert["severity"], channel, recipient, text,
                     error is None, error, run_id, error is None))
                conn.commit()
                sent, failed = sent + (error is None), failed + (error is not None)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_LOCK,))
            conn.commit()
    return {"sent": sent, "failed": failed, "skipped": False, "min_severity": min_severity()}
