"""The scheduled draw (dags/ggzy_sampling.py): which plans are due, draw, verify."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum

from ggzy import db
from ggzy.config import TIMEZONE
from ggzy.sampling.plans import due_plans


def period_of(logical_date: dt.datetime) -> str:
    """The draw period of a run: the month of its logical date in Asia/Shanghai."""
    return pendulum.instance(logical_date).in_timezone(TIMEZONE).format("YYYY-MM")


def plans_due(url: str, period: str) -> list[str]:
    with db.connect(url) as conn:
        cur = conn.execute("select * from reference.sampling_plan")
        names = [c.name for c in cur.description]
        plans = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    return due_plans(plans, period)


def draw_and_verify(url: str, plan_id: str, period: str) -> dict[str, Any]:
    """Draw with the escrowed seed (idempotent), then verify; raise if refuted."""
    from ggzy.sampling.store import perform_draw, verify

    out = perform_draw(plan_id, period, url=url)
    report = verify(out.draw_id, url=url)
    if not report.ok:
        failed = [f"{name}: {detail}" for name, ok, detail in report.checks if not ok]
        raise RuntimeError(f"draw {out.draw_id} does not verify: {failed}")
    return {"draw_id": out.draw_id, "created": out.created, "selected": out.selected,
            "population": out.population, "inputs_hash": out.inputs_hash, "result_hash": out.result_hash}
