"""The sampling DAG is configuration only and draws the period of its logical date."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dag(tmp_path_factory):
    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow-home")))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "ggzy_sampling.py"))
    assert bag.import_errors == {}
    return bag.dags["ggzy_sampling"]


def test_monthly_schedule_and_shape(dag):
    assert not dag.catchup and dag.max_active_runs == 1
    assert "sampling" in dag.tags
    assert dag.start_date.tzinfo is not None
    assert getattr(dag.timetable, "expression", None) == "0 9 1 * *" or "0 9 1 * *" in str(dag.timetable.__dict__)
    assert dag.get_task("draw_plan").upstream_task_ids == {"plans_due"}
    assert all(t.retries >= 1 for t in dag.tasks)


def test_period_is_the_month_in_shanghai():
    from ggzy.sampling.scheduled import period_of

    # 2026-10-31 17:00 UTC is already 1 November in Kunming
    assert period_of(dt.datetime(2026, 10, 31, 17, 0, tzinfo=dt.UTC)) == "2026-11"
    assert period_of(dt.datetime(2026, 11, 1, 1, 0, tzinfo=dt.UTC)) == "2026-11"


def test_due_plans():
    from ggzy.sampling.plans import due_plans

    plans = [{"plan_id": "M", "period": "monthly", "active": True},
             {"plan_id": "Q", "period": "quarterly", "active": True},
             {"plan_id": "OFF", "period": "monthly", "active": False}]
    assert due_plans(plans, "2026-11") == ["M"]
    assert due_plans(plans, "2026-10") == ["M", "Q"]
