"""Operations (issue 9): reruns are idempotent, a killed load leaves nothing behind, a
late feed is reported while the others go on, and a failed quality gate stops
publication but not the risk computation. Real Postgres, real Airflow runs."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from envs import environ
from nights import HISTORY_FROM, NIGHT1, NIGHT2, SCALE, SEED

pytestmark = pytest.mark.e2e

# The session's two nights (tests/nights.py), after tests/test_end_to_end.py has read them
START, DAY1, DAY2 = HISTORY_FROM, NIGHT1, NIGHT2


def q(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def assert_loaded_once(url: str, day) -> None:
    """The day's batches balance (delivered = loaded + quarantined) and its bids are in raw once,
    as many as the ledger says were loaded from bids.csv (no duplicates after a rerun)."""
    (loaded, delivered, quarantined), = q(
        url, "select sum(rows_loaded), sum(rows_delivered), sum(rows_quarantined) from raw.batches "
             "where batch_date = %s", day)
    assert delivered == loaded + quarantined
    (n_raw,), = q(url, "select count(*) from raw.trading_centre__bids where _batch_date = %s", day)
    (n_ledger,), = q(url, "select rows_loaded from raw.batch_files where feed = 'trading_centre' "
                          "and batch_date = %s and file = 'bids.csv'", day)
    assert n_raw == n_ledger, "the day's bids must be in raw once"


@pytest.fixture(scope="module")
def landing(pinned_warehouse, nights) -> Path:
    with environ(GGZY_LANDING=str(nights["landing"])):
        yield nights["landing"]


def run(dates, **env):
    from ggzy.runs import run_dates

    return run_dates(dates, env_extra={"GGZY_TASK_RETRIES": "0", **env})


def test_an_earlier_day_rerun_through_a_warehouse_restart_leaves_identical_marts(landing, nights, warehouse_url):
    """The earlier night again, after the later one (out of order), and the warehouse restarted
    while the run's tasks use it: the failing task is retried, the run succeeds, the day's
    batches are loaded exactly once, and every mart is what it was (reruns replace, never
    append; alerts are updated, never duplicated)."""
    import re
    import threading

    from ggzy import config, warehouse
    from ggzy.checksum import checksums

    if not config.is_embedded() and os.environ.get("GGZY_TEST_WAREHOUSE_URL"):
        pytest.skip("restarts only the embedded warehouse")
    assert nights["results"] == [(DAY1, "success"), (DAY2, "success")]
    first = checksums(warehouse_url)
    assert first["marts.fct_closed_loop"][0] > 0
    alerts_first = q(warehouse_url, "select count(*), count(distinct alert_id) from ops.alerts")[0]
    day = DAY1
    stop = threading.Event()
    started = q(warehouse_url, "select now()")[0][0]

    def restart_when_busy():
        # wait until the run has loaded the day's four batches (the quality gate and the dbt
        # build come next and need the warehouse), then restart it
        deadline = time.time() + 400
        while not stop.is_set() and time.time() < deadline:
            n = q(warehouse_url, "select count(*) from raw.batches where batch_date = %s and loaded_at > %s",
                  day, started)[0][0]
            if n == 4:
                break
            time.sleep(0.2)
        else:
            return
        from urllib.parse import urlsplit

        session_server = {"GGZY_WAREHOUSE_URL": None, "GGZY_HOME": os.environ["GGZY_TEST_SESSION_HOME"],
                          "GGZY_PG_PORT": str(urlsplit(warehouse_url).port)}
        with environ(session_server):
            warehouse.stop()
            time.sleep(15)  # long enough for the next task to find it down
            warehouse.start()

    t = threading.Thread(target=restart_when_busy, daemon=True)
    t.start()
    from ggzy.runs import run_dates, run_state

    # Airflow's own metadata in SQLite for this run: the restart is of the warehouse, not of
    # Airflow (in deployment they are separate databases; the scheduler reconnects by itself)
    meta = f"sqlite:///{landing.parent / 'airflow-restart-test.db'}"
    results = run_dates([day], env_extra={"GGZY_TASK_RETRIES": "3", "GGZY_RETRY_DELAY_SECONDS": "5",
                                          "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta})
    stop.set()
    t.join(timeout=120)
    assert results == [(day, "success")]
    assert run_state(day, {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta}) == "success"  # read from SQLite
    log = (config.home() / "run" / f"dags-test-{day.isoformat()}.log").read_text()
    assert "Connection refused" in log, "the restart should have hit a running task"
    assert re.search(r"try_number=[2-9]", log), "the failed task should have been retried"
    assert_loaded_once(warehouse_url, day)
    assert checksums(warehouse_url) == first, "a rerun of an earlier day must leave every mart as it was"
    alerts_again = q(warehouse_url, "select count(*), count(distinct alert_id) from ops.alerts")[0]
    assert alerts_again == alerts_first, "reruns must update alerts, never duplicate them"
    ledger = q(warehouse_url, "select count(*), count(distinct run_id) from ops.run_ledger")[0]
    assert ledger[0] == ledger[1] >= 3


def test_killed_load_leaves_no_partial_batch_and_rerun_loads_it_once(landing, warehouse_url, tmp_path):
    """Kill -9 the loader in the middle of a batch: the transaction never commits, so no
    partition, ledger row or quarantine row of that batch exists; the rerun loads it once.
    The middle is made certain, not raced for: the test holds a lock on the bids table, so the
    loader, its batch begun, waits there until it is killed."""
    day = DAY2
    big = tmp_path / "landing"
    shutil.copytree(landing / "trading_centre" / day.isoformat(), big / "trading_centre" / day.isoformat())
    # a larger batch: the bids file's rows repeated under new bid ids (first column)
    from ggzy.feeds.manifest import write_manifest

    bids = big / "trading_centre" / day.isoformat() / "bids.csv"
    lines = bids.read_text(encoding="utf-8").splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    with bids.open("w", encoding="utf-8") as fh:
        fh.write(header)
        for i in range(max(1, 150_000 // max(1, len(body)))):
            fh.writelines(f"K{i}-{ln}" for ln in body)
    write_manifest(big / "trading_centre" / day.isoformat(), "trading_centre", day)
    env = dict(os.environ)
    cmd = [str(Path(sys.executable).with_name("ggzy")), "load", "--landing", str(big), "--date", day.isoformat(),
           "--feed", "trading_centre"]
    before = q(warehouse_url, "select rows_loaded from raw.batches where feed='trading_centre' and batch_date=%s", day)
    with psycopg.connect(warehouse_url) as blocker:
        blocker.execute("lock table raw.trading_centre__bids in access exclusive mode")
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        waiting = []
        deadline = time.time() + 120
        while not waiting and time.time() < deadline and proc.poll() is None:
            # on the table or its month partitions: the loader's only waits are on the test's lock
            waiting = q(warehouse_url, "select distinct pid from pg_locks where not granted and relation in "
                                       "(select 'raw.trading_centre__bids'::regclass union all select inhrelid "
                                       "from pg_inherits where inhparent = 'raw.trading_centre__bids'::regclass)")
            time.sleep(0.1)
        assert waiting, f"the loader never reached the bids table (exit code {proc.poll()})"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        blocker.rollback()  # the lock goes; the loader's server process finds its client gone
    deadline = time.time() + 60
    while q(warehouse_url, "select 1 from pg_stat_activity where pid = %s", waiting[0][0]) and time.time() < deadline:
        time.sleep(0.1)
    after = q(warehouse_url, "select rows_loaded from raw.batches where feed='trading_centre' and batch_date=%s", day)
    assert after == before, "a killed load must not change the ledger"
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert_loaded_once(warehouse_url, day)
    # put the real batch back for the other tests
    from ggzy.feeds.load import load_batch

    load_batch("trading_centre", day, landing, url=warehouse_url)


def test_late_feed_is_reported_others_go_on_and_publication_waits(landing, warehouse_url):
    """The tax batch of the day never arrives: its feed is recorded late (after the
    deadline), the three others load, dbt and the risk outputs are rebuilt, but the day's
    quality gate fails and nothing is published for it."""
    day = DAY2 + dt.timedelta(days=1)
    from ggzy.generator import generate

    generate(landing / "_extra", START, day, scale=SCALE, seed=SEED)
    for feed in ("trading_centre", "approval", "credit_china"):
        shutil.copytree(landing / "_extra" / feed / day.isoformat(), landing / feed / day.isoformat(),
                        dirs_exist_ok=True)
    results = run([day], GGZY_FEED_DEADLINE_HOURS="-100000", GGZY_SENSOR_POKE_SECONDS="1")
    assert results == [(day, "success")]
    assert q(warehouse_url, "select feed from ops.feed_late where batch_date = %s", day) == [("tax",)]
    loaded = q(warehouse_url, "select feed from raw.batches where batch_date = %s and status='loaded' order by 1", day)
    assert loaded == [("approval",), ("credit_china",), ("trading_centre",)]
    (passed,), = q(warehouse_url, "select passed from ops.quality_gate where batch_date = %s "
                                  "order by checked_at desc limit 1", day)
    assert passed is False
    pubs = q(warehouse_url, "select published from ops.publications where batch_date = %s", day)
    assert pubs and not any(p for (p,) in pubs)
    (as_of,), = q(warehouse_url, "select max(as_of_date) from marts.fct_closed_loop") if _has_col(
        warehouse_url, "marts", "fct_closed_loop", "as_of_date") else [(day,)]
    assert as_of == day, "the risk computation still ran on the day's data"
    (unverified,), = q(warehouse_url, "select count(*) from ops.alerts where data_verified is false")
    (total,), = q(warehouse_url, "select count(*) from ops.alerts where is_active")
    assert total > 0 and unverified == total, "alerts of the day are marked as resting on unverified data"


def _has_col(url, schema, table, col) -> bool:
    return bool(q(url, "select 1 from information_schema.columns where table_schema=%s and table_name=%s "
                       "and column_name=%s", schema, table, col))
