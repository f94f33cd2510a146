"""Inspector matching never breaks an avoidance rule (property test over many seeds)."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from sampling_synthetic import PLAN, snapshot

from ggzy.sampling.draw import run_draw
from ggzy.sampling.matching import MatchingError


def check_rules(snap: dict, result) -> None:
    """The rules as a user states them, checked on the output."""
    plan = snap["plan"]
    pool = {i["inspector_id"]: i for i in snap["inspectors"]}
    objects = {(o["object_type"], o["object_id"]): o for o in snap["objects"]}
    conflicts = {(c["inspector_id"], c["entity_id"]) for c in snap["conflicts"]}
    previous = {(p["object_type"], p["object_id"], p["inspector_id"]) for p in snap["previous_inspectors"]}
    teams = defaultdict(list)
    for a in result.inspectors:
        teams[(a["object_type"], a["object_id"])].append(a)
    assert set(teams) == {(o["object_type"], o["object_id"]) for o in result.objects}
    for key, team in teams.items():
        obj = objects[key]
        members = [pool[a["inspector_id"]] for a in team]
        ids = [m["inspector_id"] for m in members]
        assert len(ids) == len(set(ids)) >= max(2, plan["inspectors_per_object"])
        assert any(m["department_kind"] == obj["responsible_department_kind"] for m in members), key
        if plan["joint"]:
            assert len({m["department_code"].split("-", 1)[1] for m in members}) >= 2, key
        related = set(obj["related_entity_ids"].split(";")) | {obj["object_id"]}
        for m in members:
            assert m["active"] and m["certified"], (key, m)
            assert not any((m["inspector_id"], e) in conflicts for e in related), (key, m)
            assert (key[0], key[1], m["inspector_id"]) not in previous, (key, m)
            if plan["avoid_local_office"]:
                assert m["region_code"] == "530000" or m["region_code"] != obj["prefecture_code"], (key, m)


@pytest.mark.parametrize("joint", [True, False])
def test_avoidance_rules_are_never_broken(joint):
    plan = dict(PLAN, joint=joint, inspectors_per_object=3 if not joint else 2)
    checked = 0
    for seed in range(150):
        snap = snapshot(40, seed=seed, plan=plan)
        try:
            result = run_draw(snap, f"property-{seed}", with_probabilities=False)
        except MatchingError:
            continue  # a pool that cannot staff an object stops the draw: never a broken rule
        check_rules(snap, result)
        checked += 1
    assert checked > 120


def test_unstaffable_object_stops_the_draw_with_a_reason():
    snap = snapshot(10, seed=1)
    for i in snap["inspectors"]:
        if i["department_kind"] == "housing":
            i["active"] = False
    with pytest.raises(MatchingError, match="housing department"):
        run_draw(snap, "x", with_probabilities=False)


def test_workload_is_balanced():
    """Identical interchangeable inspectors: loads differ by at most one."""
    pool = [{"inspector_id": f"I{i:02d}", "department_code": "530000-HOUSING" if i < 6 else "530000-AUDIT",
             "department_kind": "housing" if i < 6 else "audit", "region_code": "530000",
             "specialties": "construction", "active": True, "certified": True} for i in range(12)]
    plan = dict(PLAN, strata="", min_per_stratum=12, max_per_stratum=12)
    snap = snapshot(30, seed=2, plan=plan, inspectors=pool, conflicts=[], previous=[])
    for o in snap["objects"]:
        o["responsible_department_kind"] = "housing"
    result = run_draw(snap, "balance", with_probabilities=False)
    load = Counter(a["inspector_id"] for a in result.inspectors)
    housing = [load[f"I{i:02d}"] for i in range(6)]
    audit = [load[f"I{i:02d}"] for i in range(6, 12)]
    assert max(housing) - min(housing) <= 1 and max(audit) - min(audit) <= 1
    assert sum(housing) == sum(audit) == 12


def test_prior_load_in_the_period_counts():
    pool = [{"inspector_id": f"I{i}", "department_code": "530000-HOUSING", "department_kind": "housing",
             "region_code": "530000", "specialties": "", "active": True, "certified": True} for i in range(4)]
    plan = dict(PLAN, strata="", min_per_stratum=1, max_per_stratum=1, joint=False)
    snap = snapshot(5, seed=2, plan=plan, inspectors=pool, conflicts=[], previous=[],
                    prior_load=[{"inspector_id": "I0", "assignments": 5}, {"inspector_id": "I1", "assignments": 5}])
    for o in snap["objects"]:
        o["responsible_department_kind"] = "housing"
    result = run_draw(snap, "load", with_probabilities=False)
    assert {a["inspector_id"] for a in result.inspectors} == {"I2", "I3"}
