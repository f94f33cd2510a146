"""The alert list a leader reads is short enough to act on (issue 15 item 8), and the
near-misses the generator plants stay quiet, measured on the demo generator by `ggzy eval`."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from ggzy.evaluation import evaluate, render

MAX_CLEAN_ALERT_SHARE = 0.10


@pytest.fixture(scope="module")
def evaluation(risk_warehouse):
    return evaluate(Path(risk_warehouse["landing"]), risk_warehouse["url"])


def test_share_of_clean_lots_with_an_alert_is_reported_and_at_most_ten_percent(evaluation):
    v = evaluation.volume
    assert v is not None and v.lots > 0 and v.clean_lots > 0
    assert v.clean_share_any <= MAX_CLEAN_ALERT_SHARE, render(evaluation)
    assert evaluation.failures(None, None, max_clean_alert_share=MAX_CLEAN_ALERT_SHARE) == []
    text = render(evaluation)
    assert "clean lots with any alert" in text and "lots with a high-severity alert" in text


def test_dashboard_mart_shows_the_same_shares(evaluation, risk_warehouse):
    with psycopg.connect(risk_warehouse["url"]) as conn:
        n, any_share, high_share = conn.execute(
            "select count(*), avg(has_alert::int), avg(has_high_alert::int) from marts.fct_lot_alert_volume"
        ).fetchone()
    v = evaluation.volume
    assert n == v.lots
    assert float(any_share) == pytest.approx(v.share_any)
    assert float(high_share) == pytest.approx(v.share_high)


def test_near_misses_stay_quiet(evaluation):
    """Tax status that turned bad after the award; a divided panel's one-off deviation."""
    with_near = {r.rule_id: r for r in evaluation.rules if r.near_misses}
    assert {"cr_tax_abnormal_winner", "ex_favouritism"} <= set(with_near)
    assert {r: s.near_misses_flagged for r, s in with_near.items() if s.near_misses_flagged} == {}
