"""The whole nightly run on real components: generated batches in the contract's formats,
the real DAG run through Airflow (`airflow dags test`, i.e. dag.test) against a real
PostgreSQL, and the outputs a user would look at afterwards.

The runs are the session's `nights` (tests/nights.py), which tests/test_operations.py
goes on from: these tests only read what the second night left."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from nights import NIGHT1, NIGHT2

pytestmark = pytest.mark.e2e

DAY = NIGHT2


@pytest.fixture(scope="module")
def nightly(pinned_warehouse, nights):
    return nights


def q(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def test_dag_run_succeeds(nightly):
    from ggzy.runs import run_state

    assert nightly["results"] == [(NIGHT1, "success"), (DAY, "success")]
    # what `ggzy airflow run` reports, read back from Airflow's metadata database
    assert [run_state(NIGHT1), run_state(DAY), run_state(DAY + dt.timedelta(days=30))] == ["success", "success", None]


def test_every_feed_batch_of_the_day_is_loaded_and_balances(nightly, warehouse_url):
    rows = q(warehouse_url, "select feed, status from raw.batches where batch_date = %s", DAY)
    assert sorted(rows) == [("approval", "loaded"), ("credit_china", "loaded"), ("tax", "loaded"),
                            ("trading_centre", "loaded")]
    unbalanced = q(warehouse_url, """select feed, file from raw.batch_file_summary
                                     where batch_date = %s and rows_delivered <> rows_loaded + rows_quarantined""", DAY)
    assert unbalanced == []


def test_marts_have_the_lots(nightly, warehouse_url):
    (n_lots,), = q(warehouse_url, "select count(*) from marts.fct_closed_loop")
    (n_tenders,), = q(warehouse_url, "select count(*) from staging.stg_trading_centre__tenders")
    assert n_lots == n_tenders > 50


def test_outputs_alerts_disclosure_and_ledger(nightly, warehouse_url):
    (n_alerts,), = q(warehouse_url, "select count(*) from ops.alerts")
    assert n_alerts > 0
    (n_public,), = q(warehouse_url, "select count(*) from disclosure.tender_results")
    assert n_public > 0
    # one run of the day in the ledger (the operations tests rerun it, after these tests)
    ledger = q(warehouse_url, "select batch_date, task_states, started_at, finished_at, now() "
                              "from ops.run_ledger where batch_date = %s", DAY)
    assert [r[0] for r in ledger] == [DAY]
    assert ledger[0][1].get("dbt_build") == "success"
    started, finished, now = ledger[0][2:]
    assert now - dt.timedelta(hours=1) < started < finished <= now  # the run's real start, not its logical date
    gate = q(warehouse_url, "select passed from ops.quality_gate where batch_date = %s", DAY)
    assert gate, "the quality gate recorded no verdict"


def test_every_published_table_has_a_chinese_title_and_headers(nightly, warehouse_url):
    """What the public downloads: every table of schema disclosure that holds rows (the
    双随机一公开 tables too), as CSV and XLSX files (one pair per month for a table that
    grows with time), each titled and headed in Chinese."""
    import re
    from pathlib import Path

    from openpyxl import load_workbook

    cjk = re.compile(r"[\u4e00-\u9fff]")
    pub = q(warehouse_url, "select published, files, export_dir from ops.publications where batch_date = %s "
                           "order by published_at desc nulls last limit 1", DAY)
    assert pub and pub[0][0], pub
    files, folder = pub[0][1], Path(pub[0][2])
    tables = {r[0] for r in q(warehouse_url, "select schemaname || '.' || tablename from pg_tables "
                                             "where schemaname = 'disclosure'")}
    with_rows = {t for t in tables if q(warehouse_url, f"select exists (select from {t})")[0][0]}
    assert len(tables) >= 8 and {f["table"] for f in files} <= tables
    assert with_rows <= {f["table"] for f in files}, "a table with rows was not published"
    names = {f["name"] for f in files}
    assert {n.rsplit(".", 1)[0] + ext for n in names for ext in (".csv", ".xlsx")} == names  # in pairs
    for f in files:
        assert cjk.search(f["title"]), f
        if f["name"].endswith(".xlsx"):
            wb = load_workbook(folder / f["name"], read_only=True)
            header = next(wb.active.iter_rows(max_row=1, values_only=True))
            assert all(cjk.search(h) for h in header), (f["name"], header)
