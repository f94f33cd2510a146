"""The draw as a pure function of (snapshot, seed) for one algorithm version.

A snapshot is a plain JSON document (see `snapshot_document`): the plan row, the period,
the objects of the plan's type, the inspector pool without names, declared conflicts,
each object's previous inspectors and the inspectors' load earlier in the period. All
values are strings, integers, booleans or null, so that its canonical text (sorted keys,
no spaces, UTF-8) and hence its sha256 are the same on every machine.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ggzy.sampling import ALGORITHM_VERSION
from ggzy.sampling.es import es_key, inclusion_probabilities, sample_size, select, uniform
from ggzy.sampling.matching import Inspector, assign

OBJECT_FIELDS = (
    "object_type", "object_id", "object_name", "category", "industry", "region_code",
    "prefecture_code", "responsible_department_kind", "related_entity_ids",
    "risk_level", "risk_score", "credit_level",
)
RISK_LEVELS = ("high", "medium", "low", "none")  # as in marts.fct_tender_risk / fct_entity_risk
CREDIT_LEVELS = ("a", "b", "c", "d")


def canonical_json(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _text(v: Any) -> str | int | bool | None:
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, Decimal):
        return format(v.normalize(), "f") if v == v.to_integral_value() else str(v)
    return str(v)


def snapshot_document(
    *,
    plan: Mapping[str, Any],
    period: str,
    as_of_date: str | None,
    objects: list[Mapping[str, Any]],
    inspectors: list[Mapping[str, Any]],
    conflicts: list[Mapping[str, Any]],
    previous: list[Mapping[str, Any]],
    prior_load: list[Mapping[str, Any]],
) -> dict[str, Any]:
    """The draw's inputs as one canonical document (rows sorted, values as text)."""

    def rows(items, fields, key):
        out = [{f: _text(r.get(f)) for f in fields} for r in items]
        return sorted(out, key=lambda r: tuple(str(r[k]) for k in key))

    return {
        "plan": {k: _text(v) for k, v in plan.items()},
        "period": period,
        "as_of_date": _text(as_of_date),
        "objects": rows(objects, OBJECT_FIELDS, ("object_type", "object_id")),
        "inspectors": rows(
            inspectors,
            ("inspector_id", "department_code", "department_kind", "region_code", "specialties", "active", "certified"),
            ("inspector_id",),
        ),
        "conflicts": rows(conflicts, ("inspector_id", "entity_id"), ("inspector_id", "entity_id")),
        "previous_inspectors": rows(
            previous, ("object_type", "object_id", "inspector_id", "draw_id"), ("object_type", "object_id", "inspector_id")
        ),
        "prior_load": rows(prior_load, ("inspector_id", "assignments"), ("inspector_id",)),
    }


@dataclass
class DrawResult:
    algorithm_version: str
    strata: list[dict[str, Any]] = field(default_factory=list)
    objects: list[dict[str, Any]] = field(default_factory=list)
    inspectors: list[dict[str, Any]] = field(default_factory=list)

    def core(self) -> dict[str, Any]:
        """What the result hash covers: the discrete outcome (no floats)."""
        return {
            "algorithm_version": self.algorithm_version,
            "objects": [[o["stratum"], o["rank_in_stratum"], o["object_type"], o["object_id"]] for o in self.objects],
            "inspectors": [[a["object_type"], a["object_id"], a["slot"], a["inspector_id"]] for a in self.inspectors],
        }

    @property
    def result_hash(self) -> str:
        return sha256_text(canonical_json(self.core()))


def stratum_of(obj: Mapping[str, Any], columns: list[str]) -> str:
    if not columns:
        return "all"
    return ";".join(f"{c}={obj.get(c) if obj.get(c) is not None else ''}" for c in columns)


def weight_of(obj: Mapping[str, Any], plan: Mapping[str, Any]) -> Decimal:
    risk = str(obj.get("risk_level") or "none").lower()
    credit = str(obj.get("credit_level") or "B").lower()
    if risk not in RISK_LEVELS:
        raise ValueError(f"plan {plan['plan_id']}: no risk multiplier for risk level {risk!r} of {obj['object_id']}")
    if credit not in CREDIT_LEVELS:
        raise ValueError(f"plan {plan['plan_id']}: no credit multiplier for credit level {credit!r} of {obj['object_id']}")
    w = Decimal(str(plan[f"risk_mult_{risk}"])) * Decimal(str(plan[f"credit_mult_{credit}"]))
    if w <= 0:
        raise ValueError(f"plan {plan['plan_id']}: weight of {obj['object_id']} is {w}; multipliers must be positive")
    return w


def run_draw(snapshot: Mapping[str, Any], seed: str, *, with_probabilities: bool = True) -> DrawResult:
    """Draw the objects per stratum and match their inspectors. Pure: no I/O, no clock."""
    plan = snapshot["plan"]
    period = str(snapshot["period"])
    plan_id = str(plan["plan_id"])
    columns = [c for c in str(plan.get("strata") or "").split(";") if c]
    base_ratio = Decimal(str(plan["base_ratio"]))
    minimum, maximum = int(plan["min_per_stratum"]), int(plan["max_per_stratum"])

    strata: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for obj in snapshot["objects"]:
        if obj["object_type"] == plan["object_type"]:
            strata[stratum_of(obj, columns)].append(obj)

    result = DrawResult(algorithm_version=ALGORITHM_VERSION)
    drawn: list[Mapping[str, Any]] = []
    for stratum in sorted(strata):
        members = sorted(strata[stratum], key=lambda o: str(o["object_id"]))
        weights = [weight_of(o, plan) for o in members]
        n = sample_size(weights, base_ratio, minimum, maximum)
        us = [uniform(seed, plan_id, period, str(o["object_type"]), str(o["object_id"])) for o in members]
        keys = [es_key(u, float(w)) for u, w in zip(us, weights, strict=True)]
        chosen = select([(str(o["object_id"]), k) for o, k in zip(members, keys, strict=True)], n)
        pis = inclusion_probabilities([float(w) for w in weights], n) if with_probabilities else None
        position = {str(o["object_id"]): i for i, o in enumerate(members)}
        result.strata.append({
            "stratum": stratum,
            "population": len(members),
            "weight_sum": str(sum(weights, Decimal(0))),
            "planned_size": n,
        })
        for rank, object_id in enumerate(chosen, start=1):
            i = position[object_id]
            obj = members[i]
            result.objects.append({
                "stratum": stratum,
                "rank_in_stratum": rank,
                "object_type": str(obj["object_type"]),
                "object_id": object_id,
                "weight": str(weights[i]),
                "u": us[i],
                "es_key": keys[i],
                "inclusion_probability": None if pis is None else pis[i],
                "risk_level": obj.get("risk_level"),
                "credit_level": obj.get("credit_level"),
            })
            drawn.append(obj)

    conflicts: dict[str, set[str]] = defaultdict(set)
    for c in snapshot["conflicts"]:
        conflicts[str(c["inspector_id"])].add(str(c["entity_id"]))
    previous: dict[tuple[str, str], set[str]] = defaultdict(set)
    for p in snapshot["previous_inspectors"]:
        previous[(str(p["object_type"]), str(p["object_id"]))].add(str(p["inspector_id"]))
    prior_load = {str(r["inspector_id"]): int(r["assignments"]) for r in snapshot["prior_load"]}
    result.inspectors = assign(
        drawn,
        [Inspector.from_row(r) for r in snapshot["inspectors"]],
        conflicts=conflicts,
        previous=previous,
        prior_load=prior_load,
        seed=seed,
        plan=plan,
        period=period,
    )
    return result
