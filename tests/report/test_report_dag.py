"""The monthly report DAG: configuration only, the periods of its run, and a rerun of the
same run does not archive a second copy."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dag(tmp_path_factory):
    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow-home")))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "ggzy_report.py"))
    assert bag.import_errors == {}
    return bag.dags["ggzy_report"]


def test_monthly_schedule_and_shape(dag):
    assert not dag.catchup and dag.max_active_runs == 1
    assert "report" in dag.tags and dag.doc_md and "backfill" in dag.doc_md.lower()
    assert dag.start_date.tzinfo is not None and dag.start_date.date() <= dt.date(2018, 1, 1)
    assert dag.timetable.expression == "0 8 2 * *"  # the 2nd, 08:00 Asia/Shanghai
    assert dag.get_task("issue_report").upstream_task_ids == {"periods"}
    assert all(t.retries >= 1 for t in dag.tasks)


def test_a_rerun_of_the_same_run_returns_the_report_it_issued(report_url):
    from ggzy.report.scheduled import issue_once

    first = issue_once(report_url, "2026-05", "scheduled__2026-06-02T00:00:00+00:00")
    again = issue_once(report_url, "2026-05", "scheduled__2026-06-02T00:00:00+00:00")
    assert first["issued"] and not again["issued"]
    assert again["report_id"] == first["report_id"] and again["sha256"] == first["sha256"]
    with psycopg.connect(report_url) as conn:
        n, by = conn.execute("select count(*), min(issued_by) from ops.reports where run_id = %s",
                             ("scheduled__2026-06-02T00:00:00+00:00",)).fetchone()
    assert n == 1 and by == "Airflow ggzy_report"
    assert Path(first["path"]).exists()
