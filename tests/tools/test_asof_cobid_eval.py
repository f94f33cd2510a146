"""tools/asof_cobid_eval.py on a market small enough to judge by hand: the same ring pair scored
against the whole history, as of each lot's date, and settled two days later."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import hypergeom, poisson

SPEC = importlib.util.spec_from_file_location(
    "asof_cobid_eval", Path(__file__).resolve().parents[2] / "tools" / "asof_cobid_eval.py")
tool = importlib.util.module_from_spec(SPEC)
sys.modules[SPEC.name] = tool  # dataclasses look their module up
SPEC.loader.exec_module(tool)

A, B, C, D, E = range(5)
# one lot a day: A and B meet on days 0, 2 and 5; C, D, E never meet twice
LOTS = [[A, B], [C, D], [A, B], [C, E], [D, E], [A, B]]


def market() -> tool.Market:
    firms = [np.array(lot) for lot in LOTS]
    return tool.Market("hand", firms, np.array([2] * 6), np.array([True, False, True, False, False, True]),
                       {}, np.arange(6), "one lot a day")


def scores(cutoff) -> list[float]:
    return tool.judge(market(), np.asarray(cutoff), calibrate=False).score.round(9).tolist()


def test_whole_history_judges_every_lot_of_the_pair_by_its_three_meetings():
    # N = 6 lots, A and B 3 each, 3 together: P(X >= 3) = 1 / C(6, 3) = 1/20
    assert scores([5] * 6) == pytest.approx([math.log10(20), 0, math.log10(20), 0, 0, math.log10(20)])


def test_as_of_the_date_the_first_meeting_is_no_evidence_and_the_second_is_weaker():
    # day 0: they met once; day 2: N = 3, 2 lots each, 2 together: P = 1 / C(3, 2) = 1/3
    assert scores(np.arange(6)) == pytest.approx([0, 0, math.log10(3), 0, 0, math.log10(20)])


def test_settled_two_days_later_capped_at_the_last_date():
    # day 0 judged on days 0-2 (1/3); day 2 on days 0-4: N = 5, P = 1 / C(5, 2) = 1/10; day 5 on 0-5
    cutoff = np.minimum(np.arange(6) + 2, 5)
    assert scores(cutoff) == pytest.approx([math.log10(3), 0, 1.0, 0, 0, math.log10(20)])


def test_a_lot_cannot_be_judged_before_its_own_date():
    with pytest.raises(ValueError):
        tool.judge(market(), np.arange(6) - 1, calibrate=False)


def test_tails_agree_with_scipy_and_stay_finite_below_the_smallest_float():
    n, k_a, k_b, o = np.array([40, 3754]), np.array([10, 600]), np.array([12, 600]), np.array([7, 400])
    got = tool.hypergeom_ln_tail(n, k_a, k_b, o)
    assert got[0] == pytest.approx(math.log(hypergeom.sf(6, 40, 10, 12)), rel=1e-9)
    assert got[1] == pytest.approx(hypergeom.logsf(399, 3754, 600, 600), rel=1e-9)  # p ~ 1e-228
    # the calibration's critical mean: o joint lots have chance net_pair_max_p exactly there
    lam = tool.critical_means(5)
    for o in (2, 5):
        assert poisson.sf(o - 1, lam[o]) == pytest.approx(tool.VARS["net_pair_max_p"], rel=1e-6)
