"""The demo's supervision after the alert (`make demo`): a special inspection, a watched
entity, some alerts handled, and the walk-through of docs/supervision.md on one planted
bid-rigging case — alert -> notification -> clue with two departments -> transfer to 公安 ->
receipt and outcome -> decisions -> credit records -> public notice -> withdrawal after
repair — so that every supervision table and dashboard has something real to show.

Everything goes through the same functions as the `ggzy` commands. Idempotent: a step
already done is skipped. Without AIRFLOW_CONN_GGZY_NOTIFY the notifications go to a local
webhook standing in for the departments' inbox ($GGZY_HOME/notifications/inbox.jsonl).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from ggzy import config, db, settings

OFFICE = "协同监管办王主任"
# The campaign of the demo (the data a supervision office would enter): the targets are the
# highest-risk construction lots of its period, chosen from the warehouse at demo time.
CAMPAIGN = {
    "title": "房建市政工程围标串标专项检查",
    "scope": "检查期间内开标、风险评分最高的房建市政工程标段",
    "lead_department": "530000-HOUSING",
    "departments": "530000-DRC;530000-DISCIPLINE",
    "n_targets": 5,
    "n_problems": 2,
}


@contextlib.contextmanager
def _inbox():
    """AIRFLOW_CONN_GGZY_NOTIFY as configured, else a local webhook writing an inbox file."""
    if settings.NOTIFY_CONN.is_set():
        yield None
        return
    inbox = config.home() / "notifications" / "inbox.jsonl"
    inbox.parent.mkdir(parents=True, exist_ok=True)

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with inbox.open("ab") as f:
                f.write(body + b"\n")
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["AIRFLOW_CONN_GGZY_NOTIFY"] = f"http://127.0.0.1:{server.server_port}/demo-inbox"
    try:
        yield inbox
    finally:
        os.environ.pop("AIRFLOW_CONN_GGZY_NOTIFY", None)
        server.shutdown()
        server.server_close()


def _one(conn, sql, params=None):
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def special_inspection(url: str, day: dt.date) -> str:
    from ggzy.supervision import inspections

    start = (day - dt.timedelta(days=90)).replace(day=1)
    inspection_id = f"ZX-{start:%Y%m}"
    with db.connect(url) as conn:
        if _one(conn, "select 1 from ops.special_inspections where inspection_id = %s", (inspection_id,)):
            return f"{inspection_id} exists"
        lots = conn.execute(
            """select r.tender_id, coalesce(r.explanation_text, '') from marts.fct_tender_risk r
               join staging.stg_trading_centre__tenders t using (tender_id)
               where t.category = 'construction' and (t.announced_at at time zone 'Asia/Shanghai')::date
                     between %s and %s
               order by r.risk_score desc nulls last, r.tender_id limit %s""",
            (start, day, CAMPAIGN["n_targets"])).fetchall()
    path = config.home() / "demo" / f"{inspection_id}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    head = ("inspection_id,title,scope,lead_department,departments,period_start,period_end,target_type,target_id,"
            "found_on,finding,legal_basis,is_problem\n")
    rows = []
    for i, (tender, why) in enumerate(lots):
        problem = i < CAMPAIGN["n_problems"]
        finding = (f"投标文件存在雷同，{why[:60]}".replace(",", "，") if problem else "未发现问题")
        rows.append(",".join([inspection_id, CAMPAIGN["title"], CAMPAIGN["scope"], CAMPAIGN["lead_department"],
                              CAMPAIGN["departments"], start.isoformat(), day.isoformat(), "tender", tender,
                              day.isoformat(), finding, "《招标投标法实施条例》第40条" if problem else "",
                              "true" if problem else "false"]))
    path.write_text(head + "\n".join(rows) + "\n", encoding="utf-8")
    res = inspections.import_csv(path, OFFICE, url)
    return f"{inspection_id}: {res}"


def watch_entity(url: str, since: dt.date) -> str:
    from ggzy.supervision import watch

    with db.connect(url) as conn:
        if _one(conn, "select 1 from ops.watch_list where party_type = 'entity'"):
            return "watch list kept"
        entity = _one(conn, """select entity_id from marts.fct_entity_risk
                               order by risk_score desc nulls last, entity_id limit 1""")
    if not entity:
        return "no entity to watch"
    watch.add("entity", entity, "多个标段反复出现风险信号，开启跟踪", OFFICE, since, url)
    return f"watching entity {entity} from {since}"


def walk_through(url: str) -> str:
    """The case of docs/supervision.md, on the highest-scored alert of a bid-rigging rule (Art. 40)."""
    from ggzy.alerts import set_status
    from ggzy.supervision import clues as c
    from ggzy.supervision.notify import notify_alerts

    with db.connect(url) as conn:
        done = _one(conn, "select clue_id from ops.clues where registered_by = %s and source_type = 'alert'"
                          " and status = 'concluded'", (OFFICE,))
        if done:
            return f"clue {done} concluded before"
        alert = conn.execute(
            """select a.alert_id, a.department_code, a.entity_ids, t.tenderer_id
               from ops.alerts a join staging.stg_trading_centre__tenders t using (tender_id)
               where left(a.rule_id, 4) = 'a40_' and a.status = 'new' and a.department_code is not null
                 and cardinality(a.entity_ids) > 0
                 and not exists (select 1 from ops.clues c where c.source_id = a.alert_id)
               order by a.score desc nulls last, a.alert_id limit 1""").fetchone()
    if not alert:
        return "no bid-rigging alert"
    alert_id, dept, entity_ids, tenderer = alert
    with _inbox():
        sent = notify_alerts(url, "demo")
    set_status(alert_id, "acknowledged", by="行业监管部门张科长", url=url)
    clue = c.open_from_alert(alert_id, OFFICE, url=url)
    c.assign(clue, "530000-DRC", OFFICE, role="joint", url=url)
    c.set_status(clue, "verifying", OFFICE, url=url)
    c.record_finding(clue, dept, "两家投标人报价逐位相同", "行业监管部门张科长", url=url)
    c.record_finding(clue, "530000-DRC", "投标文件由同一电脑编制", "发改委李处长", url=url)
    c.set_status(clue, "confirmed", OFFICE, note="联合核查属实", url=url)
    set_status(alert_id, "verified", by="行业监管部门张科长", url=url)
    c.transfer(clue, "police", OFFICE, reference_no="云公管移〔2026〕3号", url=url)
    set_status(alert_id, "transferred", by=OFFICE, transferred_to="police", url=url)
    c.record_receipt(clue, "police", "市公安局经侦支队赵警官", OFFICE, receipt_no="HZ-2026-118", url=url)
    c.record_outcome(clue, "police", "涉嫌串通投标罪，已立案侦查", "市公安局经侦支队赵警官", OFFICE, url=url)
    c.decide(clue, "云公管罚〔2026〕21号", "bidder", sorted(entity_ids)[0], "collusion", "罚款并取消投标资格一年",
             dept, "行业监管部门张科长", url=url)
    c.decide(clue, "云公管罚〔2026〕22号", "tenderer", tenderer, "other", "警告", dept, "行业监管部门张科长", url=url)
    c.set_status(clue, "concluded", OFFICE, url=url)
    return f"alert {alert_id[:12]} notified ({sent['sent']} sent) -> clue {clue} concluded"


def credit(url: str) -> str:
    from ggzy.supervision import credit as cr
    from ggzy.transform import run_dbt

    run_dbt(["build", "--quiet", "-s", "fct_bad_conduct_records+", "fct_watch_signals", "fct_key_watch_list+",
             "--exclude-resource-type", "unit_test"], url=url)
    out = config.home() / "exports" / "credit" / f"credit-records-{dt.date.today():%Y%m%d}.csv"
    res = cr.export(out, OFFICE, url)
    with db.connect(url) as conn:
        repaired = _one(conn, "select count(*) from ops.credit_repairs")
        record = _one(conn, "select record_id from marts.fct_bad_conduct_records"
                            " where record_id = 'DEC-云公管罚〔2026〕22号'")
        decided = _one(conn, "select decided_on from marts.fct_bad_conduct_records"
                             " where record_id = 'DEC-云公管罚〔2026〕22号'")
        dept = _one(conn, "select decided_by from marts.fct_bad_conduct_records"
                          " where record_id = 'DEC-云公管罚〔2026〕22号'")
    if record and not repaired:
        cr.repair("DEC-云公管罚〔2026〕22号", decided, dept, "行业监管部门张科长", "已整改并消除不良影响", url)
        run_dbt(["build", "--quiet", "-s", "fct_bad_conduct_records+", "--exclude-resource-type", "unit_test"],
                url=url)
    return f"{res['records']} credit records exported to {Path(res['file']).name}"


def demo_supervision(url: str, day: dt.date, since: dt.date) -> str:
    """All of the above, then the nightly steps that follow (alerts sync, clue registration)."""
    from ggzy.alerts import set_status, sync_alerts
    from ggzy.supervision.clues import register_clues

    said = [special_inspection(url, day), watch_entity(url, since), walk_through(url), credit(url)]
    sync_alerts(url, "demo-supervision")  # the watched entity's lots become alerts
    # a few alerts signed for by their departments, so the handling stages have history
    with db.connect(url) as conn:
        signed = _one(conn, "select count(*) from ops.alert_events where actor = '行业监管部门值班员'")
        fresh = [r[0] for r in conn.execute(
            """select alert_id from ops.alerts where status = 'new' and is_active and department_code is not null
               order by signal_date desc nulls last, alert_id limit 3""")] if not signed else []
    for alert_id in fresh:
        set_status(alert_id, "acknowledged", by="行业监管部门值班员", url=url)
    said.append(f"clues registered: {json.dumps(register_clues(url))}")
    return "; ".join(said)
