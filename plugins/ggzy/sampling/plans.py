"""Sampling plans (抽查计划): which plans are due in a period.

The plans themselves are the dbt seed `sampling_plan` (reference.sampling_plan), so
the office edits one CSV that both the draw and the disclosure tables read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

QUARTER_MONTHS = (1, 4, 7, 10)
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_period(period: str) -> tuple[int, int]:
    m = _PERIOD.match(period)
    if not m:
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    return int(m.group(1)), int(m.group(2))


def is_due(plan: Mapping[str, Any], period: str) -> bool:
    """Monthly plans draw every month; quarterly plans in January, April, July, October."""
    _, month = parse_period(period)
    if str(plan.get("active", True)).lower() in ("false", "f", "0"):
        return False
    frequency = str(plan["period"])
    if frequency == "monthly":
        return True
    if frequency == "quarterly":
        return month in QUARTER_MONTHS
    raise ValueError(f"plan {plan['plan_id']}: unknown period {frequency!r} (monthly | quarterly)")


def due_plans(plans: Iterable[Mapping[str, Any]], period: str) -> list[str]:
    return sorted(str(p["plan_id"]) for p in plans if is_due(p, period))
