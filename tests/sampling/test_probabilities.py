"""Inclusion probabilities of the draw: exact values, and frequencies over many draws
against them (chi-square)."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
from sampling_synthetic import PLAN, snapshot
from scipy import stats

from ggzy.sampling.draw import run_draw
from ggzy.sampling.es import inclusion_probabilities, sample_size


def successive_sampling_sets(weights: list[float], n: int) -> dict[frozenset[int], float]:
    """P(sample = S) by brute force: ES draws like successive sampling proportional to weight."""
    total = sum(weights)
    out: dict[frozenset[int], float] = {}
    for seq in itertools.permutations(range(len(weights)), n):
        p, left = 1.0, total
        for i in seq:
            p *= weights[i] / left
            left -= weights[i]
        out[frozenset(seq)] = out.get(frozenset(seq), 0.0) + p
    return out


@pytest.mark.parametrize("weights,n", [
    ([1, 2, 3, 4, 0.5, 8], 3),
    ([0.5, 0.5, 16, 1, 2, 2, 4, 1], 4),
    ([1, 1, 1, 1, 1, 32], 2),
    ([0.5, 16, 16, 16, 0.5, 1, 1], 5),
])
def test_inclusion_probabilities_are_exact(weights, n):
    sets = successive_sampling_sets(weights, n)
    expected = [sum(p for s, p in sets.items() if i in s) for i in range(len(weights))]
    got = inclusion_probabilities(weights, n)
    assert got == pytest.approx(expected, abs=1e-9)
    assert sum(got) == pytest.approx(n, abs=1e-9)


def test_probability_increases_with_weight_but_is_not_proportional():
    pi = inclusion_probabilities([1, 1, 1, 1, 4, 4], 3)
    assert pi[0] < pi[4] < 1
    assert pi[4] / pi[0] < 4  # why the planned probability is the exact pi, not n*w/sum(w)


def test_sample_size_uses_ratio_minimum_and_caps():
    from decimal import Decimal as D

    assert sample_size([D(1)] * 100, D("0.05"), 1, 10) == 5
    assert sample_size([D(1)] * 101, D("0.05"), 1, 10) == 6       # ceil
    assert sample_size([D(4)] * 100, D("0.05"), 1, 10) == 10      # cap
    assert sample_size([D(1)] * 3, D("0.05"), 2, 10) == 2         # minimum
    assert sample_size([D(1)] * 1, D("0.05"), 2, 10) == 1         # never more than the stratum
    assert sample_size([], D("0.05"), 2, 10) == 0


# Eight objects in one stratum with weights 0.5 .. 16 (risk x credit), three drawn.
LEVELS = [("none", "A"), ("none", "B"), ("medium", "B"), ("none", "C"), ("high", "B"),
          ("medium", "C"), ("high", "C"), ("high", "D")]
WEIGHTS = [0.5, 1, 2, 2, 4, 4, 8, 16]
N_DRAWN = 3
DRAWS = 3000


@pytest.fixture(scope="module")
def many_draws():
    """Inclusion counts over DRAWS draws of the real draw function with different seeds."""
    plan = dict(PLAN, strata="", min_per_stratum=N_DRAWN, max_per_stratum=N_DRAWN, base_ratio="0.01")
    base = snapshot(n_objects=8, seed=1, plan=plan, conflicts=[], previous=[])
    for obj, (risk, credit) in zip(base["objects"], LEVELS, strict=True):
        obj["risk_level"], obj["credit_level"] = risk, credit
    ids = [o["object_id"] for o in base["objects"]]
    counts = np.zeros(len(ids))
    first = np.zeros(len(ids))
    for r in range(DRAWS):
        result = run_draw(base, f"public-seed-{r}", with_probabilities=False)
        drawn = [ids.index(o["object_id"]) for o in result.objects]
        assert len(drawn) == N_DRAWN
        counts[drawn] += 1
        first[drawn[0]] += 1
    return counts, first


def wald_chi_square(counts: np.ndarray, weights: list[float], n: int, draws: int) -> tuple[float, int]:
    """Chi-square statistic of inclusion counts against the exact design.

    Inclusion indicators of one fixed-size draw are not multinomial (their covariance is
    pi_ij - pi_i pi_j), so Pearson's sum would not follow chi2; the Wald form with the
    exact covariance does, with N - 1 degrees of freedom (the counts sum to n x draws).
    """
    pi = np.array(inclusion_probabilities(weights, n))
    sets = successive_sampling_sets(weights, n)
    joint = np.zeros((len(weights), len(weights)))
    for s, p in sets.items():
        for i in s:
            for j in s:
                joint[i, j] += p
    cov = joint - np.outer(pi, pi)
    d = counts - draws * pi
    stat = float(d @ np.linalg.pinv(cov * draws, rcond=1e-10) @ d)
    return stat, len(weights) - 1


def test_inclusion_frequencies_match_planned_probabilities(many_draws):
    counts, _ = many_draws
    stat, df = wald_chi_square(counts, WEIGHTS, N_DRAWN, DRAWS)
    p_value = stats.chi2.sf(stat, df)
    assert p_value > 0.001, f"chi2={stat:.1f} df={df} p={p_value:.2g}; counts {counts}"
    # and the planned probabilities really are risk-differentiated
    assert counts[-1] > 4 * counts[0]


def test_first_object_drawn_is_proportional_to_weight(many_draws):
    _, first = many_draws
    expected = DRAWS * np.array(WEIGHTS) / sum(WEIGHTS)
    assert stats.chisquare(first, expected).pvalue > 0.001


def test_chi_square_rejects_a_draw_that_ignores_the_weights(many_draws):
    """The test has power: uniform sampling of 3 of 8 is refuted."""
    rng = random.Random(5)
    counts = np.zeros(8)
    for _ in range(DRAWS):
        counts[rng.sample(range(8), N_DRAWN)] += 1
    stat, df = wald_chi_square(counts, WEIGHTS, N_DRAWN, DRAWS)
    assert stats.chi2.sf(stat, df) < 1e-6
    assert not math.isnan(stat)
