"""Synthetic draw inputs for the sampling tests (no warehouse needed)."""

from __future__ import annotations

import random
from typing import Any

from ggzy.sampling.draw import snapshot_document

PLAN: dict[str, Any] = {
    "plan_id": "T-PLAN", "matter": "测试抽查事项", "object_type": "tender", "legal_basis": "test",
    "base_ratio": "0.2", "risk_mult_high": "4", "risk_mult_medium": "2", "risk_mult_low": "1.5", "risk_mult_none": "1",
    "credit_mult_a": "0.5", "credit_mult_b": "1", "credit_mult_c": "2", "credit_mult_d": "4",
    "strata": "category", "min_per_stratum": 1, "max_per_stratum": 5, "period": "monthly",
    "joint": True, "avoid_local_office": True, "inspectors_per_object": 2, "publish_workdays": 10, "active": True,
}
PREFECTURES = ["530100", "530300", "530400", "532500", "532900"]
KINDS = {"construction": "housing", "government_procurement": "finance", "land": "natural-resources"}


def objects(n: int, rng: random.Random, categories=("construction", "government_procurement")) -> list[dict]:
    out = []
    for i in range(n):
        category = categories[i % len(categories)]
        pref = rng.choice(PREFECTURES)
        out.append({
            "object_type": "tender", "object_id": f"T{i:04d}", "object_name": f"标段{i}",
            "category": category, "industry": "other", "region_code": pref[:4] + "02", "prefecture_code": pref,
            "responsible_department_kind": KINDS[category],
            "related_entity_ids": f"E{i % 7:03d};A{i % 3:03d}",
            "risk_level": rng.choice(["high", "medium", "low", "none", "none"]),
            "risk_score": "0", "credit_level": rng.choice(["A", "B", "B", "C", "D"]),
        })
    return out


def inspectors(rng: random.Random, per_office: int = 2) -> list[dict]:
    """Provincial and prefecture offices of three kinds plus audit; some inactive/uncertified."""
    rows, n = [], 0
    for region in ["530000", *PREFECTURES]:
        for kind in ["housing", "finance", "natural-resources", "audit"]:
            for _ in range(per_office):
                n += 1
                rows.append({
                    "inspector_id": f"I{n:03d}", "department_code": f"{region}-{kind.upper()}",
                    "department_kind": kind, "region_code": region,
                    "specialties": rng.choice(["construction", "government_procurement", "land", "construction;land"]),
                    "active": rng.random() > 0.1, "certified": rng.random() > 0.1,
                })
    return rows


def snapshot(n_objects: int = 30, seed: int = 0, plan: dict | None = None, **overrides) -> dict:
    rng = random.Random(seed)
    objs = overrides.pop("objects", None) or objects(n_objects, rng)
    pool = overrides.pop("inspectors", None) or inspectors(rng)
    conflicts = overrides.pop("conflicts", None)
    if conflicts is None:
        conflicts = [{"inspector_id": p["inspector_id"], "entity_id": f"E{rng.randrange(7):03d}"}
                     for p in rng.sample(pool, 10)]
    previous = overrides.pop("previous", None)
    if previous is None:
        previous = [{"object_type": "tender", "object_id": o["object_id"], "inspector_id": p["inspector_id"],
                     "draw_id": "OLD"} for o in objs[::3] for p in rng.sample(pool, 2)]
    return snapshot_document(
        plan=plan or PLAN, period="2026-11", as_of_date="2026-10-31", objects=objs, inspectors=pool,
        conflicts=conflicts, previous=previous, prior_load=overrides.pop("prior_load", []),
    )
