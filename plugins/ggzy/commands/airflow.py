"""ggzy airflow up|down|status, ggzy run, ggzy backfill."""

from __future__ import annotations

import datetime as dt

import click


@click.group(name="airflow")
def airflow_group() -> None:
    """Airflow's services on this machine (api-server, scheduler, dag-processor, triggerer)."""


@airflow_group.command()
def up() -> None:
    """Migrate the metadata DB and start the services (idempotent)."""
    from ggzy import services
    from ggzy.airflow_env import API_PORT

    services.start_airflow()
    click.echo(f"Airflow UI: http://127.0.0.1:{API_PORT}  (user {services.os.environ.get('GGZY_AIRFLOW_USER', 'admin')})")


@airflow_group.command()
def down() -> None:
    """Stop the services."""
    from ggzy import services

    services.stop_airflow()


@airflow_group.command()
def status() -> None:
    """Which services run."""
    from ggzy import services

    for name in services.AIRFLOW_SERVICES:
        pid = services.pid_of(name)
        click.echo(f"{name:24s} {'running pid ' + str(pid) if pid else 'stopped'}")
    click.echo(f"api healthy: {services.api_healthy()}")


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
