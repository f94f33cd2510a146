"""ggzy airflow up|down|status|celery, ggzy run, ggzy backfill."""

from __future__ import annotations

import datetime as dt

import click

from ggzy.cli_types import IsoDate


@click.group(name="airflow")
def airflow_group() -> None:
    """Airflow's services on this machine (api-server, scheduler, dag-processor, triggerer)."""


@airflow_group.command()
def up() -> None:
    """Migrate the metadata DB and start the services (idempotent)."""
    from ggzy import services, settings
    from ggzy.airflow_env import API_PORT

    services.start_airflow()
    click.echo(f"Airflow UI: http://127.0.0.1:{API_PORT}  (user {settings.AIRFLOW_USER.text()})")


@airflow_group.command()
def down() -> None:
    """Stop the services (and the Celery workers and Redis, if `celery up` started them)."""
    from ggzy import celery_local, services

    if celery_local.executor_info() or celery_local.worker_pids():
        celery_local.stop()
    else:
        services.stop_airflow()


@airflow_group.command()
def status() -> None:
    """Which services run."""
    from ggzy import celery_local, services

    names = [*services.AIRFLOW_SERVICES, *celery_local.worker_pids(), celery_local.REDIS]
    for name in names:
        pid = services.pid_of(name)
        click.echo(f"{name:24s} {'running pid ' + str(pid) if pid else 'stopped'}")
    click.echo(f"api healthy: {services.api_healthy()}")
    click.echo(f"executor: {celery_local.executor_info().get('executor', 'LocalExecutor')}")


@airflow_group.group()
def celery() -> None:
    """Airflow on the CeleryExecutor: local Redis broker and Celery workers (docs/scale-out.md)."""


@celery.command(name="up")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16), help="Celery workers to start")
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(1, 64),
              help="task slots per worker")
def celery_up(workers: int, concurrency: int) -> None:
    """Start Redis, Airflow's services on the CeleryExecutor and the workers (idempotent)."""
    from ggzy import celery_local
    from ggzy.airflow_env import API_PORT

    celery_local.start(workers=workers, concurrency=concurrency)
    click.echo(f"Airflow UI: http://127.0.0.1:{API_PORT}  executor CeleryExecutor, "
               f"broker {celery_local.executor_info().get('broker')}")
    for name in celery_local.active_workers():
        click.echo(f"worker {name}")


@celery.command(name="down")
def celery_down() -> None:
    """Stop the workers, the services and the local Redis."""
    from ggzy import celery_local

    celery_local.stop()


@celery.command(name="status")
def celery_status() -> None:
    """Which workers answer through the broker; exit 1 if none."""
    from ggzy import celery_local

    names = celery_local.active_workers()
    for name in names:
        click.echo(name)
    if not names:
        click.echo(f"no Celery worker answers on {celery_local.executor_info().get('broker', 'the broker')}")
        raise SystemExit(1)


@celery.command(name="worker")
@click.option("--name", default=None, help="worker name (default ggzy-worker-<host>@<host>)")
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(1, 64), help="task slots")
def celery_worker(name: str | None, concurrency: int) -> None:
    """Run one Celery worker in the foreground: how a machine joins (docs/scale-out.md).
    Needs GGZY_REDIS_URL, GGZY_WAREHOUSE_URL, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN and
    AIRFLOW__CORE__EXECUTION_API_SERVER_URL pointing at the main server."""
    import os
    import socket

    from ggzy import celery_local, services

    host = socket.gethostname()
    env = celery_local.celery_env()
    argv = [services.airflow_bin(), "celery", "worker", "--celery-hostname", name or f"ggzy-worker-{host}@{host}",
            "--concurrency", str(concurrency)]
    os.execve(argv[0], argv, env)


@celery.command(name="night")
@click.option("--date", "date", required=True, type=IsoDate(), help="batch date YYYY-MM-DD")
@click.option("--timeout", default=1800, show_default=True, type=click.IntRange(1), help="seconds to wait for the run")
def celery_night(date: str, timeout: int) -> None:
    """Run one batch date on the scheduler and the Celery workers (`celery up` first);
    print which worker ran each task."""
    from ggzy import celery_local

    d = dt.date.fromisoformat(date)
    if not celery_local.active_workers():
        raise SystemExit("no Celery worker answers: run `ggzy airflow celery up` first")
    state, tasks = celery_local.run_night(d, timeout=timeout)
    for task_id, ti_state, queue, worker in tasks:
        click.echo(f"{task_id:28s} {ti_state or '-':10s} queue={queue or '-':10s} worker={worker or '-'}")
    # the run itself succeeds when its last step (record_run, trigger rule all_done) does;
    # a night with a failed step is a failed night
    failed = [t[0] for t in tasks if t[1] in ("failed", "upstream_failed")]
    click.echo(f"{d}  {state}" + (f"; failed steps: {', '.join(failed)}" if failed else ""))
    if state != "success" or failed:
        raise SystemExit(1)


def _dates(date: str | None, start: str | None, end: str | None) -> list[dt.date]:
    from ggzy.runs import daterange

    if date:
        return [dt.date.fromisoformat(date)]
    if not (start and end):
        raise click.UsageError("give --date D or --from D --to D")
    return daterange(dt.date.fromisoformat(start), dt.date.fromisoformat(end))


@click.command()
@click.option("--date", "date", help="batch date YYYY-MM-DD")
@click.option("--from", "start", help="first batch date")
@click.option("--to", "end", help="last batch date")
def run(date: str | None, start: str | None, end: str | None) -> None:
    """Run the nightly DAG through Airflow (`airflow dags test`) for batch dates, in order."""
    from ggzy.runs import run_dates

    results = run_dates(_dates(date, start, end))
    for d, state in results:
        click.echo(f"{d}  {state}")
    if any(s != "success" for _, s in results):
        raise SystemExit(1)


@click.command()
@click.option("--from", "start", required=True, help="first batch date YYYY-MM-DD")
@click.option("--to", "end", required=True, help="last batch date YYYY-MM-DD")
@click.option("--scheduler/--no-scheduler", default=False,
              help="create an Airflow backfill for the running scheduler instead of running in-process")
@click.option("--reprocess", type=click.Choice(["none", "failed", "completed"]), default="completed",
              help="with --scheduler: which existing runs to redo")
def backfill(start: str, end: str, scheduler: bool, reprocess: str) -> None:
    """Backfill batch dates through the nightly DAG; same warehouse as day-by-day runs."""
    from ggzy.runs import backfill_with_scheduler, run_dates

    s, e = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    if scheduler:
        states = backfill_with_scheduler(s, e, reprocess=reprocess)
        results = sorted(states.items())
    else:
        results = run_dates(_dates(None, start, end))
    for d, state in results:
        click.echo(f"{d}  {state}")
    if any(st != "success" for _, st in results):
        raise SystemExit(1)


commands = [airflow_group, run, backfill]
