"""The risk rules measured against the generator's ground truth, and the alert lifecycle.

Targets (issue 5): every deterministic rule the ground truth exercises reaches recall >= 0.95
and precision >= 0.9; the statistical screens rank planted ring lots above clean lots; a rerun
raises no duplicate alert; verified outcomes make a rule weigh more.
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import psycopg
import pytest

from ggzy.alerts import AlertError, set_status, sync_alerts
from ggzy.evaluation import evaluate

MIN_RECALL, MIN_PRECISION = 0.95, 0.9


def q(url, sql, params=None):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def evaluation(risk_warehouse):
    return evaluate(Path(risk_warehouse["landing"]), risk_warehouse["url"])


def test_every_ground_truth_rule_is_in_the_catalogue(evaluation):
    assert [r.rule_id for r in evaluation.rules if not r.in_catalogue] == []


def test_deterministic_rules_meet_recall_and_precision(evaluation):
    exercised = [r for r in evaluation.rules if r.deterministic and r.ground_truth]
    assert len(exercised) >= 20, "the generator planted too few deterministic anomalies to judge"
    assert evaluation.failures(MIN_RECALL, MIN_PRECISION) == []


def test_deterministic_rules_overall(evaluation):
    assert evaluation.deterministic_recall >= MIN_RECALL
    assert evaluation.deterministic_precision >= MIN_PRECISION


def test_screens_rank_planted_rings_above_clean_lots(evaluation):
    # 0.7, not 0.8: the price screen follows the directions of real labelled cartels (low KS and
    # KURT), which the generator's ring lots (winner 0.4-2 % below uniform covers) do not share;
    # its low CV alone still ranks them (docs/evaluation.md, Method)
    assert evaluation.auc["ps_price_screen"] >= 0.7
    # 0.8, not 0.9: the network judges each lot as of its date (issue 18), and a ring's first lots,
    # before its firms have met often enough to be improbable, have nothing to rank them by; on this
    # two-month market that is a large share of the planted ring lots (0.81 measured; on the bench's
    # full year 315 of 340 ring lots are found, and the USA's real ring lots rank better as of their
    # date than on the whole history: docs/evaluation.md, "After as-of co-bidding")
    assert evaluation.auc["net_cobid_ring"] >= 0.8


def test_eval_command_fails_below_targets(risk_warehouse):
    ggzy = [str(Path(__import__("sys").executable).with_name("ggzy")), "eval", "--landing", risk_warehouse["landing"]]
    ok = subprocess.run([*ggzy, "--min-recall", "0.95", "--min-precision", "0.9"], env=risk_warehouse["env"],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "precision" in ok.stdout and "AUC" in ok.stdout
    impossible = subprocess.run([*ggzy, "--min-recall", "1.01"], env=risk_warehouse["env"], capture_output=True, text=True)
    assert impossible.returncode == 1
    assert "Below target" in impossible.stderr


def test_price_screens_follow_their_formulas(risk_warehouse):
    """Recompute the screens of every lot from its bids, independently of the SQL."""
    url = risk_warehouse["url"]
    bids: dict[str, list[float]] = {}
    for tender_id, price in q(url, """select tender_id, bid_price from intermediate.int_bids_joined_to_lots
                                      where is_valid and bidder_bid_seq = 1 and bid_price > 0"""):
        bids.setdefault(tender_id, []).append(float(price))
    rows = q(url, "select tender_id, n_bids, cv, spd, diffp, rd, skew, kurt, ks from intermediate.int_lot_price_screens")
    assert rows
    for tender_id, n_bids, cv, spd, diffp, rd, skew, kurt, ks in rows:
        b = sorted(bids[tender_id])
        n = len(b)
        assert n == n_bids >= 3
        m = sum(b) / n
        s = math.sqrt(sum((x - m) ** 2 for x in b) / (n - 1))
        losing = b[1:]
        ml = sum(losing) / len(losing)
        sl = math.sqrt(sum((x - ml) ** 2 for x in losing) / (len(losing) - 1))
        assert cv == pytest.approx(s / m, rel=1e-6)
        assert spd == pytest.approx((b[-1] - b[0]) / b[0], rel=1e-6)
        assert diffp == pytest.approx((b[1] - b[0]) / b[0], rel=1e-6, abs=1e-12)
        if sl > 0:
            assert rd == pytest.approx((b[1] - b[0]) / sl, rel=1e-6, abs=1e-9)
        if s > 0:
            z = [(x - m) / s for x in b]
            assert skew == pytest.approx(n / ((n - 1) * (n - 2)) * sum(v ** 3 for v in z), rel=1e-6, abs=1e-9)
            if n >= 4:
                k = (n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * sum(v ** 4 for v in z)
                     - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))
                assert kurt == pytest.approx(k, rel=1e-6, abs=1e-9)
        if b[-1] > b[0]:
            f = [(x - b[0]) / (b[-1] - b[0]) for x in b]
            d = max(max((i + 1) / n - f[i], f[i] - i / n) for i in range(n))
            assert ks == pytest.approx(d, rel=1e-6)


def test_signals_name_a_legal_basis_and_a_department(risk_warehouse):
    rows = q(risk_warehouse["url"], """select count(*), count(legal_basis), count(department_code),
                                              count(*) filter (where evidence = '{}'::jsonb)
                                       from marts.fct_risk_signals""")
    n, with_basis, with_department, without_evidence = rows[0]
    assert n > 0 and with_basis == n and with_department == n and without_evidence == 0


def test_sync_raises_once_and_reruns_create_no_duplicates(risk_warehouse):
    url = risk_warehouse["url"]
    (n_signals,), = q(url, "select count(*) from marts.fct_risk_signals")
    first = sync_alerts(url, "test-run-1")
    again = sync_alerts(url, "test-run-2")
    assert first["raised"] + first["updated"] + first["unchanged"] == n_signals
    assert again == {"raised": 0, "updated": 0, "unchanged": n_signals, "cleared": 0}
    # the rerun wrote no alert (each still names the last sync that wrote it)
    assert q(url, "select count(*) from ops.alerts where last_run_id = 'test-run-2'") == [(0,)]
    (n_alerts, n_keys), = q(url, "select count(*), count(distinct (rule_id, subject_type, subject_id)) from ops.alerts")
    assert n_alerts == n_keys == n_signals
    (n_raised,), = q(url, "select count(*) from ops.alert_events where event = 'raised'")
    assert n_raised == n_signals


def test_lifecycle_is_enforced_and_recorded(risk_warehouse):
    url = risk_warehouse["url"]
    sync_alerts(url, "test-run-3")
    (alert_id,), = q(url, "select alert_id from ops.alerts where status = 'new' order by alert_id limit 1")[:1]
    with pytest.raises(AlertError):
        set_status(alert_id, "verified", by="张三", url=url)          # must be acknowledged first
    set_status(alert_id, "acknowledged", by="张三", note="已接收", url=url)
    set_status(alert_id, "verified", by="李四", note="核实", url=url)
    with pytest.raises(AlertError):
        set_status(alert_id, "transferred", by="李四", url=url)       # a transfer names its target
    set_status(alert_id, "transferred", by="李四", transferred_to="police", note="移送", url=url)
    history = q(url, """select from_status, to_status, actor from ops.alert_events
                        where alert_id = %s and event = 'status' order by event_id""", (alert_id,))
    assert history == [("new", "acknowledged", "张三"), ("acknowledged", "verified", "李四"),
                       ("verified", "transferred", "李四")]
    with pytest.raises(psycopg.errors.CheckViolation):               # not even by hand
        q(url, "update ops.alerts set status = 'new' where alert_id = %s", (alert_id,))
    # a later sync keeps the status
    sync_alerts(url, "test-run-4")
    assert q(url, "select status, transferred_to from ops.alerts where alert_id = %s", (alert_id,)) == [
        ("transferred", "police")]


@pytest.fixture(scope="module")
def outcomes(risk_warehouse, dbt_run) -> dict:
    """One Art. 40 alert verified and one procurement alert dismissed, then one rebuild of the
    risk marts for both. The dismissed alert's lot carries no evidence of the verified rule, so
    the verification (its rule weighs more) cannot raise that lot's score."""
    url = risk_warehouse["url"]
    sync_alerts(url, "test-run-5")
    rows = q(url, """select a.alert_id, a.rule_id, a.tender_id, a.entity_ids from ops.alerts a
                     where a.status = 'new' and a.tender_id is not null and cardinality(a.entity_ids) > 0
                       and a.rule_id like 'a40%%' order by a.alert_id limit 1""")
    assert rows, "no Art. 40 alert to verify"
    verified = dict(zip(("alert_id", "rule_id", "tender_id", "entity_ids"), rows[0], strict=True))
    rows = q(url, """select a.alert_id, a.tender_id, a.rule_id, t.risk_score from ops.alerts a
                     join marts.fct_tender_risk t on t.tender_id = a.tender_id
                     where a.status = 'new' and a.rule_id like 'pf%%'
                       and not exists (select 1 from jsonb_array_elements(t.explanation) e
                                       where e->>'rule_id' = %s)
                     order by a.alert_id limit 1""", (verified["rule_id"],))
    assert rows, "no procurement alert to dismiss"
    dismissed = dict(zip(("alert_id", "tender_id", "rule_id", "before"), rows[0], strict=True))
    set_status(verified["alert_id"], "acknowledged", by="王五", url=url)
    set_status(verified["alert_id"], "verified", by="王五", note="属实", url=url)
    set_status(dismissed["alert_id"], "acknowledged", by="赵六", url=url)
    set_status(dismissed["alert_id"], "dismissed", by="赵六", note="经核查系正常情形", url=url)
    dbt_run("dim_risk_rules+,+fct_tender_risk", "dim_risk_rules+,+fct_key_watch_list")
    return {"verified": verified, "dismissed": dismissed}


def test_outcomes_feed_back_into_weights_and_the_watch_list(risk_warehouse, outcomes):
    url = risk_warehouse["url"]
    rule_id, tender_id, entity_ids = (outcomes["verified"][k] for k in ("rule_id", "tender_id", "entity_ids"))
    (configured, effective), = q(url, "select configured_weight, effective_weight from marts.dim_risk_rules where rule_id = %s",
                                  (rule_id,))
    assert effective > configured
    watched = {r[0] for r in q(url, "select party_id from marts.fct_key_watch_list where 'verified' = any(reasons)")}
    assert set(entity_ids) <= watched
    (tagged,), = q(url, "select has_watched_participant from marts.fct_tender_risk where tender_id = %s", (tender_id,))
    assert tagged
    (explanation,), = q(url, "select explanation from marts.fct_tender_risk where tender_id = %s", (tender_id,))
    assert rule_id in {item["rule_id"] for item in explanation}


def test_a_dismissed_signal_stops_counting(risk_warehouse, outcomes):
    url = risk_warehouse["url"]
    tender_id, rule_id, before = (outcomes["dismissed"][k] for k in ("tender_id", "rule_id", "before"))
    (after, explanation), = q(url, "select risk_score, explanation from marts.fct_tender_risk where tender_id = %s",
                              (tender_id,))
    assert after < before
    item = next(i for i in explanation if i["rule_id"] == rule_id)
    assert item["alert_status"] == "dismissed" and float(item["contribution"]) == 0
