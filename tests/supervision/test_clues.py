"""The clue register: fed by alerts and upheld complaints (and inspections, see
test_inspections); the lifecycle holds in the database whoever writes; transfers reach
纪检监察, 公安, 检察, 法院 with receipt and outcome."""

from __future__ import annotations

import psycopg
import pytest


def test_verified_alerts_and_upheld_complaints_become_clues_once(sv):
    from ggzy.alerts import set_status
    from ggzy.supervision.clues import register_clues

    q, url = sv["q"], sv["url"]
    (alert_id, dept), = q("select alert_id, department_code from ops.alerts where status = 'new' and department_code is not"
                          " null and rule_id <> 'a40_identical_price' order by alert_id desc limit 1")
    set_status(alert_id, "acknowledged", by="财政局周科长", url=url)
    set_status(alert_id, "verified", by="财政局周科长", note="属实", url=url)
    # an upheld complaint (test data: the generated complaints of these two months have none)
    (complaint, forwarded), = q("""update staging.stg_trading_centre__complaints set outcome = 'upheld'
                                   where complaint_id = (select min(complaint_id) from staging.stg_trading_centre__complaints
                                                         where forwarded_to is not null)
                                   returning complaint_id, forwarded_to""")
    first = register_clues(url)
    assert first["alert"] >= 1 and first["complaint"] == 1
    assert register_clues(url) == {"alert": 0, "complaint": 0, "sampling": 0, "special_inspection": 0}
    (lead,), = q("""select d.department_code from ops.clues c join ops.clue_departments d using (clue_id)
                    where c.source_type = 'alert' and c.source_id = %s and d.role = 'lead'""", (alert_id,))
    assert lead == dept
    (lead, status, by), = q("""select d.department_code, c.status, c.registered_by from ops.clues c
                               join ops.clue_departments d using (clue_id)
                               where c.source_type = 'complaint' and c.source_id = %s""", (complaint,))
    assert (lead, status, by) == (forwarded, "registered", "ggzy sync")


def _new_clue(sv) -> str:
    from ggzy.supervision.clues import open_from_alert

    (alert_id,), = sv["q"]("""select a.alert_id from ops.alerts a where a.department_code is not null and not exists
                             (select 1 from ops.clues c where c.source_id = a.alert_id) order by a.alert_id limit 1""")
    return open_from_alert(alert_id, "协同监管办王主任", url=sv["url"])


def test_the_lifecycle_holds_for_direct_sql_too(sv):
    url = sv["url"]
    clue = _new_clue(sv)
    with psycopg.connect(url) as conn:
        with pytest.raises(psycopg.errors.CheckViolation, match="registered -> concluded is not allowed"):
            conn.execute("update ops.clues set status = 'concluded' where clue_id = %s", (clue,))
    with psycopg.connect(url) as conn:
        conn.execute("delete from ops.clue_departments where clue_id = %s", (clue,))
        with pytest.raises(psycopg.errors.CheckViolation, match="needs a lead department"):
            conn.execute("update ops.clues set status = 'verifying' where clue_id = %s", (clue,))


def test_transfer_to_all_four_bodies_with_receipts_and_outcomes(sv):
    from ggzy.supervision import SupervisionError
    from ggzy.supervision import clues as c

    url = sv["url"]
    clue = _new_clue(sv)
    with pytest.raises(SupervisionError, match="only a confirmed clue is transferred"):
        c.transfer(clue, "police", "王主任", url=url)
    c.assign(clue, "530000-AUDIT", "王主任", role="joint", url=url)
    c.set_status(clue, "verifying", "王主任", url=url)
    c.set_status(clue, "confirmed", "王主任", url=url)
    for target in c.TARGETS:
        c.transfer(clue, target, "王主任", reference_no=f"移{target}", url=url)
    with pytest.raises(SupervisionError, match="already transferred to court"):
        c.transfer(clue, "court", "王主任", url=url)
    with pytest.raises(SupervisionError, match="before its transfer or receipt"):
        c.record_outcome(clue, "court", "已受理", "法院刘法官", "王主任", url=url)  # no receipt yet
    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("update ops.clue_transfers set receipt_at = transferred_at - interval '1 day', receipt_by = 'x'"
                     " where clue_id = %s and target = 'police'", (clue,))
    for target, signer in zip(c.TARGETS, ("纪委钱主任", "公安赵警官", "检察院孙检察官", "法院刘法官"), strict=True):
        c.record_receipt(clue, target, signer, "王主任", receipt_no=f"HZ-{target}", url=url)
        c.record_outcome(clue, target, "已办结", signer, "王主任", url=url)
    c.set_status(clue, "concluded", "王主任", url=url)
    sv["dbt"]("fct_clues")  # a view: rebuilding is not needed for new rows, only for a changed definition
    (n, receipts, outcomes, targets), = sv["q"](
        "select n_transfers, n_receipts, n_outcomes, transfer_targets_zh from marts.fct_clues where clue_id = %s", (clue,))
    assert (n, receipts, outcomes) == (4, 4, 4)
    assert set(targets.split("、")) == {"纪检监察机关", "公安机关", "检察机关", "人民法院"}
    steps = sv["q"]("select target_zh, transfer_status_zh, receipt_by from marts.fct_clue_transfers where clue_id = %s",
                    (clue,))
    assert {s[1] for s in steps} == {"已反馈结果"} and {s[2] for s in steps} >= {"公安赵警官", "法院刘法官"}
