"""The walk-through of docs/supervision.md on a planted bid-rigging case, with the commands a
user types: alert -> notification -> clue with two departments -> transfer to 公安 ->
receipt and outcome -> decision -> credit record with its score -> public notice ->
withdrawal after credit repair; each step with its time and who did it.

Named to run first in this folder: it needs a planted alert that nobody was notified of
yet, and test_notify notifies every high alert of the shared warehouse."""

from __future__ import annotations

import csv
import json
from pathlib import Path


def test_a_planted_bid_rigging_case_from_alert_to_credit_repair(sv, receiver, tmp_path):
    ggzy, q = sv["ggzy"], sv["q"]
    landing = Path(sv["env"]["GGZY_LANDING"])
    planted = {r["subject_id"] for r in csv.DictReader((landing / "_ground_truth" / "anomalies.csv").open())
               if r["rule_id"] == "a40_identical_price"}
    # the planted case: an alert of identical bid prices on a lot the generator rigged
    (alert_id, tender_id, entity_ids, department), = q(
        """select alert_id, tender_id, entity_ids, department_code from ops.alerts
           where rule_id = 'a40_identical_price' and tender_id = any(%s) and status = 'new'
             and department_code is not null
           order by alert_id limit 1""", (sorted(planted),))
    tenderer = q("select tenderer_id from staging.stg_trading_centre__tenders where tender_id = %s", (tender_id,))[0][0]

    # 1. notification: the department is told once, with evidence and legal basis
    hook = {"AIRFLOW_CONN_GGZY_NOTIFY": receiver["url"]}
    out = ggzy("alerts", "notify", extra=hook).stdout
    assert "failed=0" in out
    mine = [m for m in receiver["got"] if m["alert_id"] == alert_id]
    assert len(mine) == 1 and mine[0]["department_code"] == department
    assert "法律依据：《招标投标法实施条例》第40条" in mine[0]["text"] and "证据：" in mine[0]["text"]
    ggzy("alerts", "notify", extra=hook)  # a rerun notifies nobody again
    assert len([m for m in receiver["got"] if m["alert_id"] == alert_id]) == 1

    # 2. the department signs for it; the office opens a clue; a second department joins
    ggzy("alerts", "set", alert_id[:12], "acknowledged", "--by", "住建局张科长")
    clue = ggzy("clues", "open", "--alert", alert_id[:12], "--by", "协同监管办王主任").stdout.strip()
    ggzy("clues", "assign", clue, "--department", "530000-DRC", "--role", "joint", "--by", "协同监管办王主任")
    ggzy("clues", "set", clue, "verifying", "--by", "协同监管办王主任")
    ggzy("clues", "finding", clue, "--department", department, "--text", "两家投标报价逐位相同", "--by", "住建局张科长")
    ggzy("clues", "finding", clue, "--department", "530000-DRC", "--text", "投标文件同一电脑编制", "--by", "发改委李处长")
    ggzy("clues", "set", clue, "confirmed", "--by", "协同监管办王主任", "--note", "联合核查属实")
    ggzy("alerts", "set", alert_id[:12], "verified", "--by", "住建局张科长")

    # 3. transfer to the police, the receipt and the outcome from the police
    ggzy("clues", "transfer", clue, "--to", "police", "--ref", "云公管移〔2026〕3号", "--by", "协同监管办王主任")
    ggzy("alerts", "set", alert_id[:12], "transferred", "--to", "police", "--by", "协同监管办王主任")
    refused = ggzy("clues", "set", clue, "concluded", "--by", "协同监管办王主任", check=False)
    assert refused.returncode == 1 and "has not reported its outcome" in refused.stderr
    ggzy("clues", "receipt", clue, "--to", "police", "--signed-by", "市公安局经侦支队赵警官", "--no", "HZ-2026-118",
         "--by", "协同监管办王主任")
    ggzy("clues", "outcome", clue, "--to", "police", "--text", "涉嫌串通投标罪，已立案侦查",
         "--reported-by", "市公安局经侦支队赵警官", "--by", "协同监管办王主任")

    # 4. decisions: the bidders' collusion (serious) and the tenderer's failure of duty (general)
    bidder = sorted(entity_ids)[0]
    ggzy("clues", "decide", clue, "--decision", "云住建罚〔2026〕21号", "--subject-type", "bidder", "--subject", bidder,
         "--violation", "collusion", "--penalty", "罚款并取消投标资格一年", "--department", department,
         "--by", "住建局张科长")
    ggzy("clues", "decide", clue, "--decision", "云住建罚〔2026〕22号", "--subject-type", "tenderer", "--subject", tenderer,
         "--violation", "other", "--penalty", "警告", "--department", department, "--by", "住建局张科长")
    ggzy("clues", "set", clue, "concluded", "--by", "协同监管办王主任")
    sv["dbt"]("fct_bad_conduct_records", "disclosure_bad_conduct_notices")  # what step 4 reads; step 6 builds all
    records = {r[0]: r[1:] for r in q("select record_id, score, notice_status, subject_id from marts.fct_bad_conduct_records"
                                      " where clue_id = %s", (clue,))}
    assert records == {"DEC-云住建罚〔2026〕21号": (12, "published", bidder),
                       "DEC-云住建罚〔2026〕22号": (3, "published", tenderer)}
    public = {r[0]: r[1] for r in q("select case_id, score from disclosure.bad_conduct_notices")}
    assert public["云住建罚〔2026〕21号"] == 12 and public["云住建罚〔2026〕22号"] == 3

    # 5. export for the provincial credit system
    out = tmp_path / "credit.csv"
    ggzy("credit", "export", "--out", str(out), "--by", "协同监管办王主任")
    rows = {r["record_id"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows["DEC-云住建罚〔2026〕21号"]["score"] == "12" and rows["DEC-云住建罚〔2026〕21号"]["violation_code"] == "collusion"
    assert q("select n_records from ops.credit_exports order by export_id desc limit 1")[0][0] == len(rows)

    # 6. credit repair: refused for collusion, granted for the tenderer's general violation
    today = q("select (now() at time zone 'Asia/Shanghai')::date")[0][0].isoformat()
    refused = ggzy("credit", "repair", "DEC-云住建罚〔2026〕21号", "--on", today, "--approved-by", department,
                   "--by", "住建局张科长", check=False)
    assert refused.returncode == 1 and "一般违纪违规行为" in refused.stderr
    ggzy("credit", "repair", "DEC-云住建罚〔2026〕22号", "--on", today, "--approved-by", department,
         "--note", "已整改并消除不良影响", "--by", "住建局张科长")
    sv["dbt"]("fct_bad_conduct_records+")
    public = {r[0] for r in q("select case_id from disclosure.bad_conduct_notices")}
    assert "云住建罚〔2026〕21号" in public and "云住建罚〔2026〕22号" not in public
    (withdrawn,), = q("select withdrawn_on from disclosure.bad_conduct_withdrawals where case_id = '云住建罚〔2026〕22号'")
    assert withdrawn.isoformat() == today

    # 7. every step with its time and who did it
    shown = ggzy("clues", "show", clue).stdout
    for who in ("协同监管办王主任", "住建局张科长", "发改委李处长", "市公安局经侦支队赵警官"):
        assert who in shown
    assert "receipt" in shown and "涉嫌串通投标罪" in shown and "lead  " + department in shown
    (n_dept, joint, status, transfers), = q(
        "select n_departments, is_joint_verification, status, transfer_targets_zh from marts.fct_clues where clue_id = %s",
        (clue,))
    assert (n_dept, joint, status, transfers) == (2, True, "concluded", "公安机关")
    stages = q("select stage, done_by from marts.fct_alert_handling where alert_id = %s order by start_at", (alert_id,))
    assert stages == [("alert_acknowledge", "住建局张科长"), ("alert_verify", "住建局张科长"),
                      ("alert_transfer", "协同监管办王主任")]
    (notified,), = q("select is_notified from marts.fct_alert_handling where alert_id = %s and stage = 'alert_acknowledge'",
                     (alert_id,))
    assert notified
    assert json.loads(json.dumps(mine[0]["evidence"]))  # the evidence travelled as data, not only as text
