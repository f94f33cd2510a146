"""Alert handling deadlines (处理时限) in working days, with the 2026 National Day 调休."""

from __future__ import annotations


def test_acknowledge_late_and_verification_overdue_on_the_working_day_calendar(sv):
    from ggzy.alerts import set_status

    q, url = sv["q"], sv["url"]
    (alert_id,), = q("select alert_id from ops.alerts where status = 'new' and rule_id <> 'a40_identical_price'"
                     " order by alert_id limit 1")
    # raised on Wed 30 Sep 2026 (test data: the alert is backdated, as if raised then)
    q("update ops.alerts set raised_at = '2026-09-30 10:00+08' where alert_id = %s returning 1", (alert_id,))
    set_status(alert_id, "acknowledged", by="水利局孙科员", url=url)
    q("update ops.alert_events set at = '2026-10-12 09:00+08' where alert_id = %s and to_status = 'acknowledged'"
      " returning 1", (alert_id,))
    try:
        # only what the assertions read; the restoring build below stays complete
        sv["dbt"]("int_supervision_stages+,+fct_alert_handling", vars_="{handling_as_of: '2026-11-10'}")
        rows = {r[0]: r[1:] for r in q(
            """select stage, due_date::text, done_by, workdays_used, workdays_overdue, stage_status, is_breach,
                      limit_workdays
               from marts.fct_alert_handling where alert_id = %s""", (alert_id,))}
    finally:
        sv["dbt"]("int_supervision_stages+")  # back to today's date; downstream views too (dbt drops them in cascade)
    # 3 working days after 30 Sep: 1-7 Oct are holidays, 8 and 9 Oct work, Sat 10 Oct is a
    # 调休 working day -> due 10 Oct; signed on Mon 12 Oct = 4 working days: late by one
    assert rows["alert_acknowledge"] == ("2026-10-10", "水利局孙科员", 4, 1, "late", True, 3)
    # verification runs from 12 Oct, 15 working days -> due 2 Nov; on 10 Nov still open: 21 used
    assert rows["alert_verify"] == ("2026-11-02", None, 21, 6, "open_overdue", True, 15)
    assert "alert_transfer" not in rows


def test_every_stage_limit_says_where_it_comes_from(sv):
    rows = sv["q"]("select stage, limit_workdays, value_source, source_doc, basis_zh from reference.supervision_stage_limits")
    assert {r[0] for r in rows} >= {"alert_acknowledge", "alert_verify", "alert_transfer", "clue_assign", "clue_verify",
                                     "clue_dispose"}
    for stage, limit, source, doc, basis in rows:
        assert limit > 0 and source in ("policy", "office_setting") and doc and basis, stage
