"""Weighted sampling without replacement (Efraimidis-Spirakis) with public randomness.

Why ES with per-object HMAC numbers: the draw needs no ordered stream of random numbers,
so it does not depend on the order in which objects are listed, and anyone can check one
object's number with a few lines of code in any language:

    u   = ((first 8 bytes of HMAC-SHA256(key=seed, msg="plan|period|type|id"), big-endian,
           shifted right by 11 bits) + 0.5) / 2**53
    key = ln(u) / weight        (monotone in u ** (1 / weight), the ES key)

and the n largest keys of a stratum are drawn (ties, which have probability ~0, go to
the smaller object id).

What "planned probability" means. ES draws the first object with probability
weight / sum of weights and each next one likewise among those left (successive
sampling). The resulting inclusion probability pi_i of object i in a sample of n is
increasing in its weight but is *not* exactly n * w_i / sum(w) (it is close when n is a
small share of the stratum). The plan fixes weights and sample sizes; the exact pi_i
these imply are computed by `inclusion_probabilities` (Rosén's integral
pi_i = int_0^inf w_i e^{-w_i t} P(fewer than n other objects have E_j < t) dt with
E_j ~ Exp(w_j)), stored with every drawn object, and are what the chi-square test
compares inclusion frequencies against.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal

import numpy as np

_SCALE = float(2**53)


def uniform(seed: str, *parts: str) -> float:
    """A number in (0, 1) derived from the seed and the parts, reproducible anywhere."""
    msg = "|".join(parts).encode("utf-8")
    digest = hmac.new(seed.encode("utf-8"), msg, hashlib.sha256).digest()
    top53 = int.from_bytes(digest[:8], "big") >> 11
    return (top53 + 0.5) / _SCALE


def es_key(u: float, weight: float) -> float:
    """ln(u) / w: orders objects exactly as the ES key u ** (1 / w) does, without underflow."""
    if weight <= 0:
        raise ValueError(f"weight must be positive, got {weight}")
    return math.log(u) / weight


def select(keys: Sequence[tuple[str, float]], n: int) -> list[str]:
    """The n object ids with the largest keys, largest first (ties: smaller id first)."""
    ordered = sorted(keys, key=lambda kv: (-kv[1], kv[0]))
    return [object_id for object_id, _ in ordered[:n]]


def sample_size(weights: Sequence[Decimal], base_ratio: Decimal, minimum: int, maximum: int) -> int:
    """ceil(base_ratio x sum of weights), clamped to [minimum, maximum] and to the population.

    Exact decimal arithmetic, so a size never depends on float rounding.
    """
    population = len(weights)
    if population == 0:
        return 0
    target = int((base_ratio * sum(weights, Decimal(0))).to_integral_value(rounding=ROUND_CEILING))
    return min(population, max(minimum, min(maximum, target)))


_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(24)


def _quadrature(panels: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes on (0, 1), in panels refined towards both ends."""
    edges = np.concatenate([[0.0], np.geomspace(1e-12, 0.5, panels // 2), 1 - np.geomspace(0.5, 1e-12, panels // 2)[1:], [1.0]])
    xs, ws = [], []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        xs.append((b - a) / 2 * _NODES + (a + b) / 2)
        ws.append((b - a) / 2 * _WEIGHTS)
    return np.concatenate(xs), np.concatenate(ws)


def inclusion_probabilities(weights: Sequence[float], n: int, max_work: float = 1.5e9) -> list[float] | None:
    """Exact (to ~1e-9) inclusion probabilities of an ES sample of n among these weights.

    Returns None when the stratum is too large for the O(N^2 x n x nodes) computation
    (more than `max_work` operations); callers then store no probability.
    """
    w = np.asarray(weights, dtype=float)
    size = len(w)
    if n <= 0:
        return [0.0] * size
    if n >= size:
        return [1.0] * size
    s, sw = _quadrature()
    if size * size * n * len(s) > max_work:
        return None
    # Substitution t = -ln(s) / c with c = min weight: the integrand
    # (w_i / c) s^(w_i / c - 1) F_i(t) has no singularity on (0, 1).
    c = float(w.min())
    t = -np.log(s) / c
    arrived = -np.expm1(-np.outer(w, t))  # p_j(t) = P(E_j < t), shape (N, T)
    out = np.empty(size)
    chunk = max(1, int(2_000_000 // (len(s) * n)))
    for start in range(0, size, chunk):
        idx = np.arange(start, min(size, start + chunk))
        # dist[i, t, k] = P(k of the objects other than i have arrived by t), k < n
        dist = np.zeros((len(idx), len(s), n))
        dist[:, :, 0] = 1.0
        for j in range(size):
            p = arrived[j][None, :, None]
            moved = dist * p
            stay = dist - moved
            stay[:, :, 1:] += moved[:, :, :-1]
            mask = idx == j
            if mask.any():
                stay[mask] = dist[mask]
            dist = stay
        fewer_than_n = dist.sum(axis=2)  # (chunk, T)
        ratio = (w[idx] / c)[:, None]
        integrand = ratio * np.power(s[None, :], ratio - 1) * fewer_than_n
        out[idx] = integrand @ sw
    return [float(x) for x in np.clip(out, 0.0, 1.0)]
