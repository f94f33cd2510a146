"""The draw is a pure function of (snapshot, seed), and obeys the plan's sizes and strata."""

from __future__ import annotations

import copy
import math
import random
from collections import Counter
from decimal import Decimal

import pytest
from sampling_synthetic import PLAN, snapshot

from ggzy.sampling.draw import canonical_json, run_draw, sha256_text
from ggzy.sampling.es import uniform


def test_same_inputs_same_list():
    snap = snapshot(40, seed=3)
    a, b = run_draw(snap, "2026-11 公开种子"), run_draw(copy.deepcopy(snap), "2026-11 公开种子")
    assert a.core() == b.core() and a.result_hash == b.result_hash
    assert a.objects and a.inspectors


def test_list_does_not_depend_on_the_order_of_the_rows():
    snap = snapshot(40, seed=3)
    shuffled = copy.deepcopy(snap)
    rng = random.Random(9)
    for key in ("objects", "inspectors", "conflicts", "previous_inspectors"):
        rng.shuffle(shuffled[key])
    assert run_draw(shuffled, "seed-x").result_hash == run_draw(snap, "seed-x").result_hash


def test_another_seed_gives_another_list():
    snap = snapshot(40, seed=3)
    hashes = {run_draw(snap, f"seed-{i}", with_probabilities=False).result_hash for i in range(10)}
    assert len(hashes) == 10


def test_snapshot_hash_is_stable_and_sensitive():
    snap = snapshot(40, seed=3)
    h = sha256_text(canonical_json(snap))
    assert h == sha256_text(canonical_json(copy.deepcopy(snap)))
    changed = copy.deepcopy(snap)
    changed["objects"][0]["risk_level"] = "high" if changed["objects"][0]["risk_level"] != "high" else "low"
    assert sha256_text(canonical_json(changed)) != h


def test_each_object_key_can_be_recomputed_by_hand():
    """The published recipe: u from HMAC-SHA256 and key = ln(u) / weight."""
    import hashlib
    import hmac

    snap = snapshot(40, seed=3)
    result = run_draw(snap, "hand-check")
    o = result.objects[0]
    digest = hmac.new(b"hand-check", f"T-PLAN|2026-11|tender|{o['object_id']}".encode(), hashlib.sha256).digest()
    u = ((int.from_bytes(digest[:8], "big") >> 11) + 0.5) / 2**53
    assert u == o["u"] == uniform("hand-check", "T-PLAN", "2026-11", "tender", o["object_id"])
    assert o["es_key"] == math.log(u) / float(Decimal(o["weight"]))


def test_sizes_per_stratum_follow_the_plan():
    snap = snapshot(60, seed=4)  # two categories -> two strata of 30
    result = run_draw(snap, "sizes")
    by_stratum = Counter(o["stratum"] for o in result.objects)
    assert set(by_stratum) == {"category=construction", "category=government_procurement"}
    for s in result.strata:
        members = [o for o in snap["objects"] if f"category={o['category']}" == s["stratum"]]
        weight_sum = sum(Decimal(PLAN[f"risk_mult_{o['risk_level']}"]) * Decimal(PLAN[f"credit_mult_{o['credit_level'].lower()}"])
                         for o in members)
        expected = min(len(members), max(1, min(5, math.ceil(Decimal("0.2") * weight_sum))))
        assert s["planned_size"] == by_stratum[s["stratum"]] == expected
    # within a stratum, drawn in key order; probabilities recorded and sum to the size
    for s in result.strata:
        drawn = [o for o in result.objects if o["stratum"] == s["stratum"]]
        assert [o["rank_in_stratum"] for o in drawn] == list(range(1, len(drawn) + 1))
        assert drawn == sorted(drawn, key=lambda o: -o["es_key"])
        assert all(0 < o["inclusion_probability"] <= 1 for o in drawn)


def test_unknown_risk_level_is_refused_loudly():
    snap = snapshot(10, seed=5)
    snap["objects"][0]["risk_level"] = "critical"
    with pytest.raises(ValueError, match="no risk multiplier for risk level 'critical'"):
        run_draw(snap, "x")
