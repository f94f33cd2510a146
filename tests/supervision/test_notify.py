"""Trigger-based supervision: a new alert at or above the configured severity reaches its
department once (local webhook receiver); a failed delivery is recorded and retried."""

from __future__ import annotations


def _pending(sv, severities):
    return {r[0] for r in sv["q"](
        """select a.alert_id from ops.alerts a left join ops.alert_notifications n using (alert_id)
           where a.is_active and a.status = 'new' and a.severity = any(%s) and (n.alert_id is null or not n.delivered)""",
        (list(severities),))}


def test_high_alerts_are_sent_once_with_evidence_and_legal_basis(sv, receiver):
    sv["q"]("delete from ops.alert_notifications returning 1")  # as before the first run with a connection
    high = _pending(sv, ["high"])
    assert high, "the generated data has high alerts"
    hook = {"AIRFLOW_CONN_GGZY_NOTIFY": receiver["url"], "GGZY_NOTIFY_MIN_SEVERITY": "high"}
    out = sv["ggzy"]("alerts", "notify", extra=hook).stdout
    assert f"sent={len(high)} failed=0" in out
    got = {m["alert_id"]: m for m in receiver["got"]}
    assert set(got) == high and len(receiver["got"]) == len(high)
    for m in got.values():
        assert m["severity"] == "high"
        assert "法律依据：" in m["text"] and m["legal_basis"] in m["text"] and "证据：" in m["text"]
        assert "请于" in m["text"]  # the acknowledge deadline
    sv["ggzy"]("alerts", "notify", extra=hook)  # rerun: nobody again
    assert len(receiver["got"]) == len(high)
    delivered = {r[0] for r in sv["q"]("select alert_id from ops.alert_notifications where delivered and severity = 'high'")}
    assert high <= delivered


def test_a_failed_delivery_is_recorded_and_retried_next_run(sv, receiver):
    medium = _pending(sv, ["medium"])
    assert medium
    hook = {"AIRFLOW_CONN_GGZY_NOTIFY": receiver["url"], "GGZY_NOTIFY_MIN_SEVERITY": "medium"}
    receiver["state"]["fail"] = True
    proc = sv["ggzy"]("alerts", "notify", extra=hook, check=False)
    assert proc.returncode == 1 and f"failed={len(medium)}" in proc.stdout
    failed = sv["q"]("select alert_id, delivered, attempts, error from ops.alert_notifications where alert_id = any(%s)",
                     (sorted(medium),))
    assert len(failed) == len(medium) and all(not d and n == 1 and "500" in e for _, d, n, e in failed)
    receiver["state"]["fail"] = False
    sv["ggzy"]("alerts", "notify", extra=hook)
    assert sorted(m["alert_id"] for m in receiver["got"]) == sorted(medium)
    retried = sv["q"]("select delivered, attempts from ops.alert_notifications where alert_id = any(%s)", (sorted(medium),))
    assert all(d and n == 2 for d, n in retried)


def test_without_a_connection_nothing_is_recorded(sv):
    before = sv["q"]("select count(*) from ops.alert_notifications")[0][0]
    out = sv["ggzy"]("alerts", "notify", extra={"GGZY_NOTIFY_MIN_SEVERITY": "low"}).stdout
    assert "no notification connection" in out
    assert sv["q"]("select count(*) from ops.alert_notifications")[0][0] == before
    bad = sv["ggzy"]("alerts", "notify", extra={"GGZY_NOTIFY_MIN_SEVERITY": "urgent", "AIRFLOW_CONN_GGZY_NOTIFY": "http://x"},
                     check=False)
    assert bad.returncode == 1 and "GGZY_NOTIFY_MIN_SEVERITY" in bad.stderr
