"""AUC and its bootstrap on cases whose answer is known without the code."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from ggzy.realdata.report import auc, paired_difference, score_auc


def test_perfect_reversed_and_tied():
    y = np.array([0, 0, 0, 1, 1, 1])
    assert auc(np.array([1, 2, 3, 4, 5, 6.0]), y) == 1.0
    assert auc(np.array([6, 5, 4, 3, 2, 1.0]), y) == 0.0
    assert auc(np.ones(6), y) == 0.5
    # pos {2, 4} vs neg {1, 3}: 3 of 4 pairs ordered right
    assert auc(np.array([1, 2, 3, 4.0]), np.array([0, 1, 0, 1])) == 0.75
    assert auc(np.array([1, 2.0]), np.array([1, 1])) is None


def test_agrees_with_mann_whitney_on_random_ties():
    rng = np.random.default_rng(5)
    s = rng.integers(0, 20, 300).astype(float)
    y = rng.random(300) < 0.3
    u = mannwhitneyu(s[y], s[~y]).statistic
    assert auc(s, y) == pytest.approx(u / (y.sum() * (~y).sum()))


def test_bootstrap_interval_brackets_and_is_reproducible():
    y = np.array([0, 0, 0, 1, 1, 1])
    perfect = score_auc("x", np.arange(6.0), y, draws=500, seed=1)
    assert (perfect.auc, perfect.low, perfect.high) == (1.0, 1.0, 1.0)
    rng = np.random.default_rng(2)
    y = rng.random(400) < 0.4
    s = y * 0.5 + rng.normal(size=400)
    a = score_auc("x", s, y, draws=1000, seed=3)
    b = score_auc("x", s, y, draws=1000, seed=3)
    assert a == b and a.low < a.auc < a.high and 0.55 < a.low and a.high < 0.8
    # missing scores are left out, not ranked
    s_missing = s.copy()
    s_missing[:10] = np.nan
    assert score_auc("x", s_missing, y, draws=200, seed=3).lots == 390


def test_paired_difference():
    rng = np.random.default_rng(4)
    y = rng.random(300) < 0.5
    good = y + rng.normal(size=300)
    same = paired_difference(good, good.copy(), y, draws=500, seed=1, name="d")
    assert (same.auc, same.low, same.high) == (0.0, 0.0, 0.0)
    worse = paired_difference(good, -good, y, draws=500, seed=1, name="d")
    assert worse.auc == pytest.approx(auc(good, y) - auc(-good, y))
    assert worse.low > 0


def test_new_score_tables_and_columns_are_discovered(warehouse_url):
    """A score another model adds later (a new int_lot_* table or column) is judged without
    editing the report; counts, prices and population bookkeeping are not scores."""
    import psycopg

    from ggzy.realdata.report import score_columns
    from ggzy.realdata.run import create_database, drop_database

    url = create_database(warehouse_url, "ggzy_eval_unit_columns")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create schema if not exists marts; create schema if not exists intermediate")
            conn.execute("create table marts.fct_tender_risk (tender_id text, n_bidders bigint, award_price numeric,"
                         " risk_score numeric, risk_level text)")
            conn.execute("create table intermediate.int_lot_price_patterns (tender_id text, lot_year integer,"
                         " chance_probability double precision, is_pattern_lot boolean)")
            conn.execute("create table intermediate.int_lots_summarised (tender_id text, min_bid_price numeric)")
            conn.execute("create table intermediate.int_lot_price_screens (tender_id text, population_size bigint,"
                         " cv double precision)")
            found = [f"{t}.{c}" for _, t, c in score_columns(conn)]
        assert found == ["fct_tender_risk.risk_score", "int_lot_price_patterns.chance_probability",
                         "int_lot_price_patterns.is_pattern_lot", "int_lot_price_screens.cv"]
    finally:
        drop_database(warehouse_url, "ggzy_eval_unit_columns")


def test_one_class_market_renders_without_crashing():
    """A market whose judged lots are all competitive (or that has no lot with 3 bids) has no
    AUC: the table says so, and the CI gate cannot call it a pass."""
    import numpy as np

    from ggzy.realdata.report import MarketResult, ScoreAuc, render, score_auc

    none = score_auc("x", np.array([0.1, 0.2]), np.array([0, 0]), draws=100, seed=1)
    assert none.auc is None and none.low is None
    empty = ScoreAuc("x", 0, None, None, None)
    r = MarketResult("tiny", "tiny.csv", [], 2, 0, 0.0, 0.0, empty, empty, empty, empty, empty, empty, [], [])
    text = render([r], 100)
    assert "tiny" in text and "risk_score" in text and "(none)" in text
    assert r.worst_difference is None
