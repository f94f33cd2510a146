"""Matching inspectors to drawn objects (随机匹配执法检查人员).

Rules, in the order they are applied to each object:
- eligible: active, holds a law-enforcement certificate, no declared conflict with the
  object or any entity related to it (a lot's tenderer, agency, winner), not one of the
  inspectors of the object's previous draw, and, where the plan says
  `avoid_local_office`, not from the object's own prefecture office (inspectors of a
  provincial department are never "local": the province is the level that supervises
  across prefectures);
- slot 1 (lead): from a department of the kind responsible for the object under the
  responsibility list (any level: the provincial department or another prefecture's);
- slot 2 for a joint plan: from a department of another kind;
- further slots: any eligible inspector not yet chosen;
- within each slot: least loaded first (assignments in earlier draws of the period plus
  this draw so far), then a specialist in the object's category, then the public
  HMAC number of (seed, plan, period, object, inspector) as the tie-break.
Objects are served in draw order (stratum, rank), so the result is a pure function of
the snapshot and the seed. An object that cannot be staffed stops the draw with a
message naming the object and the rule that emptied the pool: a draw that breaks an
avoidance rule is worse than no draw.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ggzy.sampling.es import uniform

PROVINCE_CODE = "530000"


class MatchingError(RuntimeError):
    pass


@dataclass(frozen=True)
class Inspector:
    inspector_id: str
    department_code: str
    department_kind: str
    region_code: str
    specialties: tuple[str, ...]
    active: bool
    certified: bool

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> Inspector:
        return cls(
            inspector_id=str(row["inspector_id"]),
            department_code=str(row["department_code"]),
            department_kind=str(row["department_kind"]),
            region_code=str(row["region_code"]),
            specialties=tuple(s for s in str(row.get("specialties") or "").split(";") if s),
            active=bool(row["active"]),
            certified=bool(row["certified"]),
        )


def is_local(inspector: Inspector, obj: Mapping[str, object]) -> bool:
    """Is the inspector from the object's own local (prefecture) office?"""
    return inspector.region_code != PROVINCE_CODE and inspector.region_code == obj.get("prefecture_code")


def related_entities(obj: Mapping[str, object]) -> set[str]:
    ids = {s for s in str(obj.get("related_entity_ids") or "").split(";") if s}
    if obj.get("object_type") in ("entity", "agency"):
        ids.add(str(obj["object_id"]))
    return ids


def exclusion_reason(
    inspector: Inspector,
    obj: Mapping[str, object],
    *,
    conflicts: Mapping[str, set[str]],
    previous: set[str],
    avoid_local_office: bool,
) -> str | None:
    """Why this inspector may not inspect this object (None = eligible)."""
    if not inspector.active:
        return "inactive"
    if not inspector.certified:
        return "no law-enforcement certificate"
    if conflicts.get(inspector.inspector_id, set()) & related_entities(obj):
        return "declared conflict"
    if inspector.inspector_id in previous:
        return "inspected this object in its previous draw"
    if avoid_local_office and is_local(inspector, obj):
        return "local office"
    return None


def assign(
    objects: Iterable[Mapping[str, object]],
    inspectors: Iterable[Inspector],
    *,
    conflicts: Mapping[str, set[str]],
    previous: Mapping[tuple[str, str], set[str]],
    prior_load: Mapping[str, int],
    seed: str,
    plan: Mapping[str, object],
    period: str,
) -> list[dict[str, object]]:
    """Inspectors for each object, as rows (object_type, object_id, slot, role, inspector...)."""
    pool = sorted(inspectors, key=lambda i: i.inspector_id)
    load = {i.inspector_id: int(prior_load.get(i.inspector_id, 0)) for i in pool}
    per_object = int(plan["inspectors_per_object"])
    joint = _bool(plan["joint"])
    avoid_local = _bool(plan["avoid_local_office"])
    plan_id = str(plan["plan_id"])
    rows: list[dict[str, object]] = []
    for obj in objects:
        key = (str(obj["object_type"]), str(obj["object_id"]))
        before = previous.get(key, set())
        reasons = {
            i.inspector_id: exclusion_reason(i, obj, conflicts=conflicts, previous=before, avoid_local_office=avoid_local)
            for i in pool
        }
        eligible = [i for i in pool if reasons[i.inspector_id] is None]
        responsible_kind = str(obj["responsible_department_kind"])
        category = str(obj.get("category") or "")

        def rank(i: Inspector, key=key, category=category) -> tuple[int, int, float]:
            tie = uniform(seed, "inspector", plan_id, period, key[0], key[1], i.inspector_id)
            return (load[i.inspector_id], 0 if category in i.specialties else 1, tie)

        chosen: list[Inspector] = []
        for slot in range(1, per_object + 1):
            if slot == 1:
                candidates = [i for i in eligible if i.department_kind == responsible_kind]
                need = f"an inspector of a {responsible_kind} department (responsible)"
            elif slot == 2 and joint:
                candidates = [i for i in eligible if i.department_kind != chosen[0].department_kind]
                need = "an inspector of a second department (joint inspection)"
            else:
                candidates = [i for i in eligible if i not in chosen]
                need = "another eligible inspector"
            if not candidates:
                excluded: dict[str, int] = {}
                for r in reasons.values():
                    if r:
                        excluded[r] = excluded.get(r, 0) + 1
                raise MatchingError(
                    f"plan {plan_id} period {period}: no eligible inspector for {key[0]} {key[1]} "
                    f"(slot {slot}: needs {need}; pool {len(pool)}, excluded {excluded})"
                )
            pick = min(candidates, key=rank)
            chosen.append(pick)
            eligible = [i for i in eligible if i is not pick]
            load[pick.inspector_id] += 1
            rows.append({
                "object_type": key[0],
                "object_id": key[1],
                "slot": slot,
                "role": "lead" if slot == 1 else "member",
                "inspector_id": pick.inspector_id,
                "department_code": pick.department_code,
                "department_kind": pick.department_kind,
            })
    return rows


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "t", "1", "yes")
