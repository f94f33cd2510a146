"""Past one process, on one machine (issue 18 items 4 and 5): a night of the real DAG on
Airflow's CeleryExecutor with a local Redis and two Celery workers, and a streaming read
replica that readers use while the night writes to the primary.

One embedded warehouse of its own (the replica is of the embedded server, and the
night must not mix with the session warehouse of the other end-to-end modules); the
replica starts before the night, so the night's results reach it by streaming.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.e2e

DAY = dt.date(2026, 6, 30)
HISTORY_FROM = DAY - dt.timedelta(days=20)
GGZY = str(Path(sys.executable).with_name("ggzy"))
ENV_KEYS = ("GGZY_HOME", "GGZY_PG_PORT", "GGZY_WAREHOUSE_URL", "GGZY_LANDING", "GGZY_REPLICA_PORT",
            "GGZY_AIRFLOW_PORT", "GGZY_REDIS_PORT", "GGZY_TASK_RETRIES", "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE")


@pytest.fixture(scope="module")
def primary():
    # ggzy.airflow_env reads GGZY_AIRFLOW_PORT once, at import: import it before this
    # module's port is set, so later modules of the session keep the default
    import ggzy.airflow_env  # noqa: F401
    from ggzy import schema, warehouse

    saved = {k: os.environ.get(k) for k in ENV_KEYS}
    # not under pytest's basetemp: a pytest session starting meanwhile (another checkout,
    # another user's run) sets /tmp/pytest-of-<user> to 0700 and the servers, running as
    # their own system user, would lose their data directories
    home = Path(tempfile.mkdtemp(prefix="ggzy-scale-test-"))
    os.environ.pop("GGZY_WAREHOUSE_URL", None)
    os.environ.update({
        "GGZY_HOME": str(home), "GGZY_PG_PORT": str(free_port()), "GGZY_REPLICA_PORT": str(free_port()),
        "GGZY_AIRFLOW_PORT": str(free_port()), "GGZY_REDIS_PORT": str(free_port()),
        "GGZY_TASK_RETRIES": "0",
        # only the night the test asks for: no scheduled run of the latest interval on unpause
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
    })
    url = warehouse.start()
    schema.bootstrap(url)
    yield url
    from ggzy import replica

    replica.drop()
    warehouse.stop()
    shutil.rmtree(home, ignore_errors=True)
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def replica_url(primary):
    from ggzy import replica

    return replica.start()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ggzy(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([GGZY, *args], capture_output=True, text=True, timeout=timeout, env=dict(os.environ))


@pytest.fixture(scope="module")
def celery_night(primary, replica_url, tmp_path_factory):
    """History loaded, then the night of DAY through the scheduler and two Celery workers."""
    from ggzy.feeds.load import load_range
    from ggzy.generator import generate

    landing = tmp_path_factory.mktemp("scale-landing")
    os.environ["GGZY_LANDING"] = str(landing)
    generate(landing, HISTORY_FROM, DAY, scale=0.02, seed=18)
    load_range(landing, HISTORY_FROM, DAY - dt.timedelta(days=1), url=primary)
    try:
        up = ggzy("airflow", "celery", "up", "--workers", "2", timeout=600)
        assert up.returncode == 0, up.stdout + up.stderr
        began = time.monotonic()
        night = ggzy("airflow", "celery", "night", "--date", DAY.isoformat())
        seconds = time.monotonic() - began
        from ggzy.celery_local import latest_run_id, task_workers
        from ggzy.runs import DAG_ID, logical_date

        run_id = latest_run_id(DAG_ID, logical_date(DAY))
        tasks = task_workers(DAG_ID, run_id) if run_id else []
        yield {"up": up, "night": night, "seconds": seconds, "run_id": run_id, "tasks": tasks,
               "failed_logs": _failed_task_logs(run_id, tasks)}
    finally:
        ggzy("airflow", "celery", "down", timeout=300)


def _failed_task_logs(run_id: str | None, tasks: list) -> str:
    """The end of each failed task's log (the home is deleted after the module)."""
    logs = Path(os.environ["GGZY_HOME"]) / "airflow" / "logs" / "dag_id=ggzy_nightly" / f"run_id={run_id}"
    out = []
    for task_id, state, *_ in tasks:
        if state == "failed":
            for f in sorted(logs.glob(f"task_id={task_id}/*.log")):
                out.append(f"--- {f.name} of {task_id}\n" + f.read_text(errors="replace")[-3000:])
    return "\n".join(out)


def q(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def test_night_completes_on_celery_with_two_workers(celery_night, primary):
    print(f"\nnight of {DAY} on Celery: {celery_night['seconds']:.0f} s\n{celery_night['night'].stdout}")
    assert celery_night["night"].returncode == 0, (celery_night["night"].stdout[-3000:]
                                                   + celery_night["night"].stderr[-3000:] + celery_night["failed_logs"])
    assert "ggzy-worker-1@" in celery_night["up"].stdout and "ggzy-worker-2@" in celery_night["up"].stdout
    (state,), = q(primary.rsplit("/", 1)[0] + "/airflow",
                  "select state from dag_run where run_id = %s", celery_night["run_id"])
    assert state == "success"
    tasks = celery_night["tasks"]
    assert {t[0] for t in tasks} >= {"load_trading_centre", "quality_gate", "dbt_build", "publish_disclosure",
                                     "record_run"}
    assert [t for t in tasks if t[1] != "success"] == []
    # executed by the workers: each task instance was a Celery task (its external id is
    # the Celery task id) and the result backend names the worker that ran it
    assert [t for t in tasks if not t[3]] == [], tasks
    assert {t[3].split("@")[0] for t in tasks} == {"ggzy-worker-1", "ggzy-worker-2"}, tasks
    assert {t[2] for t in tasks} == {"default"}
    # and the night did its work in the warehouse
    ledger = q(primary, "select task_states from ops.run_ledger where batch_date = %s", DAY)
    assert ledger and ledger[0][0].get("dbt_build") == "success", ledger


def test_replica_refuses_writes(replica_url):
    assert q(replica_url, "select pg_is_in_recovery()") == [(True,)]
    with psycopg.connect(replica_url) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("create table public.written_on_the_replica (i int)")
    with psycopg.connect(replica_url) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("insert into ops.run_ledger (batch_date) values ('2020-01-01')")


def test_replica_admits_whom_the_primary_admits(primary, replica_url):
    """Access rules are files, not replicated data: the replica gets the primary's; a wrong
    password is refused by both (or, on a trust-auth server, accepted by both)."""
    from ggzy import replica

    def admitted(url: str) -> bool:
        try:
            with psycopg.connect(url, connect_timeout=5):
                return True
        except psycopg.OperationalError:
            return False

    wrong = "postgresql://postgres:not-the-password@127.0.0.1:{}/ggzy"
    assert admitted(wrong.format(replica.replica_port())) == admitted(wrong.format(os.environ["GGZY_PG_PORT"]))


def test_readers_use_the_replica_with_their_own_roles(primary, replica_url, monkeypatch):
    """Roles, passwords and grants are data: made on the primary, they hold on the replica.
    The analyst reads the marts there and is refused raw (as on the primary); the
    auditor reads raw; neither can write."""
    from ggzy import replica, roles

    for name in ("ANALYST", "AUDITOR"):
        monkeypatch.setenv(f"GGZY_{name}_PASSWORD", f"{name.lower()}-pw-for-the-replica-test")
    roles.apply_roles(primary)
    # autocommit: the position read must come after the commit, or the replica may replay up to
    # it and still not show the table (the commit record comes later)
    with psycopg.connect(primary, autocommit=True) as conn:
        conn.execute("create table if not exists marts.replica_probe_mart (n int)")
        conn.execute("grant select on marts.replica_probe_mart to ggzy_analyst")
        (lsn,), = conn.execute("select pg_current_wal_insert_lsn()::text").fetchall()
    assert replica.wait_for(lsn, timeout=30)
    port = replica.replica_port()

    def as_role(role: str, sql: str):
        with psycopg.connect(f"postgresql://ggzy_{role}:{role}-pw-for-the-replica-test@127.0.0.1:{port}/ggzy") as conn:
            return conn.execute(sql).fetchall()

    assert as_role("analyst", "select count(*) from marts.replica_probe_mart") == [(0,)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_role("analyst", "select count(*) from raw.batches")
    assert as_role("auditor", "select count(*) from raw.batches")[0][0] >= 0
    for role in ("analyst", "auditor"):
        with pytest.raises((psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege)):
            as_role(role, "insert into marts.replica_probe_mart values (1)")


def test_replica_logs_what_the_primary_logs(primary, replica_url):
    """Server settings (the audit log among them) live in postgresql.auto.conf, a file
    the primary does not replicate: the replica has the same ones, set after it was made too."""
    from ggzy import replica

    with psycopg.connect(primary, autocommit=True) as conn:
        conn.execute("alter system set log_min_duration_statement = 12345")
        conn.execute("select pg_reload_conf()")
    replica.start()  # what `ggzy warehouse replica` does again on a running replica
    sql = """select name, setting from pg_settings where source = 'configuration file'
             and name not in ('primary_conninfo', 'primary_slot_name', 'port') order by name"""
    deadline = time.monotonic() + 10
    while (on_replica := q(replica_url, sql)) != q(primary, sql) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert on_replica == q(primary, sql)
    assert ("log_min_duration_statement", "12345") in on_replica


def test_replica_sees_a_write_on_the_primary_within_seconds(primary, replica_url):
    from ggzy import replica

    with psycopg.connect(primary, autocommit=True) as conn:
        conn.execute("create table if not exists public.replica_probe (written_at timestamptz)")
        (lsn,), = conn.execute("select pg_current_wal_insert_lsn()::text").fetchall()
    assert replica.wait_for(lsn, timeout=30), "the table did not reach the replica within 30 s"
    with psycopg.connect(primary, autocommit=True) as conn:
        (written,), = conn.execute("insert into public.replica_probe values (clock_timestamp()) "
                                   "returning written_at").fetchall()
    began = time.monotonic()
    seen = []
    while time.monotonic() - began < 10 and not seen:
        seen = q(replica_url, "select 1 from public.replica_probe where written_at = %s", written)
        time.sleep(0.1)
    assert seen, "the write did not reach the replica within 10 s"
    print(f"write seen on the replica after {time.monotonic() - began:.2f} s")


def test_replica_sees_the_nights_results(celery_night, primary, replica_url):
    from ggzy import replica

    checks = ["select count(*) from ops.run_ledger where batch_date = '2026-06-30'",
              "select count(*) from marts.fct_closed_loop",
              "select count(*) from disclosure.tender_results",
              "select count(*) from ops.alerts"]
    with psycopg.connect(primary) as conn:
        (lsn,), = conn.execute("select pg_current_wal_insert_lsn()::text").fetchall()
        on_primary = [conn.execute(sql).fetchall() for sql in checks]
    assert replica.wait_for(lsn, timeout=30), "the replica did not replay the night within 30 s"
    on_replica = [q(replica_url, sql) for sql in checks]
    assert on_replica == on_primary
    assert on_primary[0] == [(1,)] and on_primary[1][0][0] > 0 and on_primary[2][0][0] > 0
