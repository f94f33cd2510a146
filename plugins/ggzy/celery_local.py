"""Airflow on the CeleryExecutor on this machine: a local Redis (Debian's `redis-server`)
as the broker, the usual Airflow services, and N Celery workers that execute the tasks.

The same processes as docker-compose.yml's `redis`, `airflow-*` and `airflow-worker`
services; workers on other machines join by pointing at the same Redis, metadata
database and api-server (docs/scale-out.md).

Settings (ggzy.settings): GGZY_REDIS_URL (an existing broker; unset = start redis-server
here), GGZY_REDIS_PORT, GGZY_REDIS_PASSWORD.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from ggzy import config, services, settings
from ggzy.airflow_env import airflow_env

REDIS = "redis-server"
EXECUTOR = "CeleryExecutor"
# Recorded in run/ so that `ggzy airflow status` says which executor the services run on.
MARKER = "executor.json"


def redis_port() -> int:
    return settings.REDIS_PORT.integer()


def broker_url() -> str:
    url = settings.REDIS_URL.value()
    if url:
        return url
    pw = settings.REDIS_PASSWORD.text()
    return f"redis://:{pw}@127.0.0.1:{redis_port()}/0"


def worker_name(i: int) -> str:
    # %h is expanded by Celery to this machine's host name: ggzy-worker-1@vm
    return f"ggzy-worker-{i}@%h"


def celery_env(worker: int | None = None) -> dict[str, str]:
    """airflow_env() with the CeleryExecutor and the broker; for worker i also its own
    log-server port (two workers on one machine cannot share 8793)."""
    env = airflow_env()
    env.update({
        "AIRFLOW__CORE__EXECUTOR": EXECUTOR,
        "AIRFLOW__CELERY__BROKER_URL": broker_url(),
        # the result backend defaults to the metadata database (db+<sql_alchemy_conn>);
        # extended results record which worker ran each task (celery_taskmeta.worker)
        "AIRFLOW__CELERY__EXTRA_CELERY_CONFIG": json.dumps({"result_extended": True}),
        # one task at a time per worker process: a worker takes no more than it runs, so
        # the others get their share of a night's parallel tasks
        "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
        # a task not acknowledged within this time is handed to another worker; a night's
        # longest task (dbt build, 542 s at scale 16) stays far below it
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "21600",
    })
    if worker is not None:
        env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(_free_port())
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(wait: float = 20) -> None:
    """Start redis-server on 127.0.0.1 unless GGZY_REDIS_URL names a broker elsewhere."""
    if settings.REDIS_URL.is_set():
        return
    exe = shutil.which(REDIS)
    if not exe:
        raise SystemExit("redis-server not found: apt-get install redis-server (or set GGZY_REDIS_URL)")
    folder = config.home() / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "redis.conf"
    # the password goes into a file, not onto the command line where `ps` shows it
    conf.write_text(f"bind 127.0.0.1\nport {redis_port()}\ndir {folder}\nsave \"\"\nappendonly no\n"
                    f"requirepass {settings.REDIS_PASSWORD.text()}\n")
    conf.chmod(0o600)
    services.start(REDIS, [exe, str(conf)], dict(os.environ))
    deadline = time.time() + wait
    while time.time() < deadline:
        if redis_ping():
            return
        time.sleep(0.3)
    raise SystemExit(f"redis-server did not answer on port {redis_port()}; see {services.run_dir()}/{REDIS}.log")


def redis_ping() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(broker_url(), socket_timeout=2).ping())
    except redis.RedisError:
        return False


def worker_argv(i: int, concurrency: int) -> list[str]:
    return [services.airflow_bin(), "celery", "worker", "--celery-hostname", worker_name(i),
            "--concurrency", str(concurrency)]


def start(workers: int = 2, concurrency: int = 2, wait: float = 240) -> None:
    """Redis, Airflow's services on the CeleryExecutor and `workers` Celery workers.
    Services already running on another executor are restarted on this one."""
    _check_provider()
    marker = services.run_dir() / MARKER
    running = [n for n in services.AIRFLOW_SERVICES if services.pid_of(n)]
    if running and _marker(marker).get("executor") != EXECUTOR:
        services.stop_airflow()
    start_redis()
    env = celery_env()
    services.migrate_airflow(env)
    services.ensure_admin_password()
    for name, args in services.AIRFLOW_SERVICES.items():
        services.start(name, [services.airflow_bin(), *args], env)
    for i in range(1, workers + 1):
        services.start(f"airflow-worker-{i}", worker_argv(i, concurrency), celery_env(worker=i))
    marker.write_text(json.dumps({"executor": EXECUTOR, "workers": workers, "concurrency": concurrency,
                                  "broker": _redact(broker_url())}))
    deadline = time.time() + wait
    while time.time() < deadline:
        if services.api_healthy() and len(active_workers()) >= workers:
            return
        time.sleep(3)
    raise SystemExit(f"after {wait:.0f}s: api healthy {services.api_healthy()}, workers answering "
                     f"{sorted(active_workers())}; logs in {services.run_dir()}")


def _check_provider() -> None:
    """Workers that cannot import the Celery executor exit at start, and a night then
    waits for nobody: say so at once (Celery 5.7.0 removed what provider 3.26 imports)."""
    proc = subprocess.run([sys.executable, "-c", "import airflow.providers.celery.executors.celery_executor_utils"],
                          env=celery_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        import celery

        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise SystemExit(f"Airflow's Celery provider does not import with celery {celery.__version__}: {last}. "
                         "Celery 5.6.3 works with provider 3.26 (requirements/pipeline.lock).")


def active_workers() -> list[str]:
    """Names of the Celery workers that answer a ping through the broker."""
    from celery import Celery

    app = Celery(broker=broker_url())
    try:
        replies = app.control.ping(timeout=2) or []
    except Exception:  # broker down or unreachable: no worker answers
        return []
    finally:
        app.close()
    return sorted(name for reply in replies for name in reply)


def worker_pids() -> dict[str, int | None]:
    names = sorted(p.name.removesuffix(".pid") for p in services.run_dir().glob("airflow-worker-*.pid"))
    return {n: services.pid_of(n) for n in names}


def stop() -> None:
    """Workers first (they finish or give back their tasks), then the services and Redis."""
    services.stop_all(list(worker_pids()), timeout=60)
    services.stop_airflow()
    services.stop(REDIS)
    (services.run_dir() / MARKER).unlink(missing_ok=True)


def executor_info() -> dict:
    return _marker(services.run_dir() / MARKER)


def _marker(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _redact(url: str) -> str:
    from ggzy.warehouse import _redact as redact

    return redact(url)


def task_workers(dag_id: str, run_id: str) -> list[tuple[str, str, str | None, str | None]]:
    """(task_id, state, queue, Celery worker) of every task instance of a run, from
    Airflow's metadata: the task instance's external_executor_id is its Celery task id,
    and the result backend (celery_taskmeta, extended) names the worker that ran it."""
    import psycopg

    url = config.libpq_url(airflow_env()["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    with psycopg.connect(url) as conn:
        has_meta = conn.execute("select to_regclass('celery_taskmeta') is not null").fetchone()[0]
        join = ("left join celery_taskmeta m on m.task_id = ti.external_executor_id" if has_meta
                else "left join (select null::text as worker) m on false")
        return conn.execute(f"""select ti.task_id, ti.state, ti.queue, m.worker
                                from task_instance ti {join}
                                where ti.dag_id = %s and ti.run_id = %s
                                order by ti.start_date nulls last, ti.task_id""", (dag_id, run_id)).fetchall()


def latest_run_id(dag_id: str, logical_date_utc: str) -> str | None:
    import psycopg

    url = config.libpq_url(airflow_env()["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    with psycopg.connect(url) as conn:
        row = conn.execute("""select run_id from dag_run where dag_id = %s and logical_date = %s::timestamptz
                              order by id desc limit 1""", (dag_id, logical_date_utc)).fetchone()
    return row[0] if row else None


def run_night(d, timeout: float = 1800) -> tuple[str | None, list]:
    """Run batch date d on the running scheduler (an Airflow backfill of one date, executed
    by the Celery workers); returns (state, task_workers)."""
    from ggzy.runs import DAG_ID, backfill_with_scheduler, logical_date

    state = backfill_with_scheduler(d, d, timeout=timeout, reprocess="completed").get(d)
    run_id = latest_run_id(DAG_ID, logical_date(d))
    return state, (task_workers(DAG_ID, run_id) if run_id else [])

