"""The DAG files import cleanly, are configured as the team agreed, and do no work at
import time (the DAG processor parses them every 30 s)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow-home")))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "ggzy_nightly" in dagbag.dags


def test_every_dag_has_tags_retries_docs_and_a_static_start(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md and len(dag.doc_md) > 200, f"{dag_id} lacks doc_md saying what it does and how to backfill"
        assert dag.start_date is not None and dag.start_date.tzinfo is not None
        # a run dated before start_date runs no task and is marked successful: every date
        # of the working-day calendar (2018 on) must be runnable and backfillable
        assert dag.start_date.date() <= dt.date(2018, 1, 1), f"{dag_id} cannot run batches before {dag.start_date}"
        for task in dag.tasks:
            if task.task_id.startswith("wait_"):
                continue  # sensors: the deadline, not retries, decides
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


def test_nightly_dag_shape(dagbag):
    dag = dagbag.dags["ggzy_nightly"]
    assert dag.max_active_runs == 1
    assert not dag.catchup
    for feed in ("trading_centre", "approval", "credit_china", "tax"):
        assert dag.get_task(f"load_{feed}").upstream_task_ids == {f"wait_{feed}"}
        assert f"load_{feed}" in dag.get_task("quality_gate").upstream_task_ids
    assert dag.get_task("dbt_build").upstream_task_ids == {"quality_gate"}
    assert dag.get_task("publish_disclosure").upstream_task_ids == {"sync_alerts"}
    # supervision after the alert: notified and registered as clues once the alerts are synced
    assert dag.get_task("notify_alerts").upstream_task_ids == {"sync_alerts"}
    assert dag.get_task("register_clues").upstream_task_ids == {"sync_alerts"}
    assert {"notify_alerts", "register_clues", "publish_disclosure"} <= dag.get_task("record_run").upstream_task_ids
    # loading must not be blocked by one late feed: the gate and dbt run on what arrived
    assert dag.get_task("quality_gate").trigger_rule == "all_done"
    assert dag.get_task("dbt_build").trigger_rule == "all_done"


def test_the_nights_dbt_builds_in_parallel_and_keeps_its_parse(dagbag):
    """cosmos's profile mapping defaults to one dbt thread (every model and data test one after
    another) and a standalone operator keeps no partial parse: the night must build on the
    threads `ggzy dbt` uses and parse only what changed since the previous night."""
    from ggzy import config, settings

    dbt_build = dagbag.dags["ggzy_nightly"].get_task("dbt_build")
    assert dbt_build.profile_config.profile_mapping.profile_args["threads"] == settings.DBT_THREADS.integer() > 1
    assert dbt_build.partial_parse and dbt_build.cache_dir is not None
    assert Path(dbt_build.cache_dir).is_relative_to(config.home())


def test_the_nights_dbt_starts_the_longest_chain_first(dagbag):
    """The night's dbt runs in the task's process (dbtRunner), where the task installs
    ggzy.dbt_scheduler before it builds: in a subprocess dbt would keep its own order."""
    from cosmos.constants import InvocationMode

    dbt_build = dagbag.dags["ggzy_nightly"].get_task("dbt_build")
    assert dbt_build.invocation_mode == InvocationMode.DBT_RUNNER
    assert type(dbt_build).__name__ == "DbtBuildLongestChainFirst"


def test_import_does_no_database_or_file_work(tmp_path):
    """Import the DAG files with the warehouse unreachable and the landing folder missing,
    and with psycopg.connect booby-trapped: parsing must not touch either."""
    code = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(REPO / 'plugins')!r})
        import psycopg
        def boom(*a, **k):
            raise SystemExit("psycopg.connect called at import time")
        psycopg.connect = boom
        os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder={str(REPO / 'dags')!r})
        assert bag.import_errors == {{}}, bag.import_errors
        print("OK", len(bag.dags))
    """)
    env = dict(os.environ, AIRFLOW_HOME=str(tmp_path), GGZY_WAREHOUSE_URL="postgresql://nobody@127.0.0.1:1/none",
               GGZY_LANDING=str(tmp_path / "missing"), AIRFLOW_CONN_GGZY_WAREHOUSE="postgresql://x@127.0.0.1:1/none")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "OK" in out.stdout
