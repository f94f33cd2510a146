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


@pytest.mark.e2e
def test_the_dag_issues_the_month_report_in_airflow(report_url):
    """One real run (`airflow dags test`, a DagRun in the metadata database): on 2 July it
    reports June, the second quarter and the first half-year, each archived with its run id."""
    import subprocess

    from ggzy.airflow_env import airflow_env
    from ggzy.services import airflow_bin, migrate_airflow

    env = airflow_env(report_url)
    env["GGZY_WAREHOUSE_URL"] = report_url
    migrate_airflow(env)
    proc = subprocess.run([airflow_bin(), "dags", "test", "ggzy_report", "2026-07-02T08:00:00+08:00"], env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    with psycopg.connect(report_url) as conn:
        rows = conn.execute("""select period, issued_by, pages from ops.reports
                               where run_id like '%%2026-07-02%%' or run_id like 'manual%%' order by period""").fetchall()
    periods = {r[0] for r in rows}
    assert {"2026-06", "2026-Q2", "2026-H1"} <= periods, rows
    assert all(r[1] == "Airflow ggzy_report" and r[2] >= 10 for r in rows)
