"""Airflow's own CLI commands, several in one interpreter, and a run's state from its metadata.

Every `airflow …` process spends ~6 s importing Airflow and its providers before it does
anything (measured on the 2-core machine: `airflow version` 6.3 s; `db migrate`, `pools set`
and `dags reserialize` 8-9 s each, 26 s together, against 8 s in one process). So the steps a
night needs before `airflow dags test` or a backfill run here as one `python -m ggzy.airflow_cli`
process: the same parser and command functions as the `airflow` executable (airflow/__main__.py),
called once per command, in order, stopping at the first that fails.

Usage: `python -m ggzy.airflow_cli '[["db", "migrate"], ["pools", "set", "p", "1", "why"]]'`
(a JSON list of argument lists, as they would follow `airflow`).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys


def run_commands(commands: list[list[str]], env: dict[str, str], check: bool = True,
                 capture: bool = True) -> subprocess.CompletedProcess:
    """Run `airflow <argv>` for each argv of `commands` in one process. If `check`, a failure stops
    the caller with a message naming the commands, the exit code and the end of their output
    (a user reads that, not a traceback)."""
    proc = subprocess.run([sys.executable, "-m", "ggzy.airflow_cli", json.dumps(commands)], env=env,
                          capture_output=capture, text=True)
    if check and proc.returncode != 0:
        ran = "; ".join("airflow " + " ".join(c) for c in commands)
        output = "\n".join(part[-2000:] for part in (proc.stdout, proc.stderr) if part)
        raise SystemExit(f"{ran}: failed with exit code {proc.returncode}\n{output}".rstrip())
    return proc


def run_states(dag_id: str, logical_dates: list[dt.datetime], metadata_url: str) -> list[str | None]:
    """State of the newest run of `dag_id` at each of `logical_dates` (to the minute; None: no
    run), read in one query from Airflow's metadata database (PostgreSQL or SQLite): what
    `airflow dags list-runs` prints, without starting Airflow."""
    import sqlalchemy as sa

    engine = sa.create_engine(metadata_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("select logical_date, state from dag_run where dag_id = :dag_id "
                                        "and logical_date is not null order by id"), {"dag_id": dag_id}).fetchall()
    finally:
        engine.dispose()
    newest = {_utc_minute(logical): state for logical, state in rows}  # later ids overwrite earlier ones
    return [newest.get(_utc_minute(d)) for d in logical_dates]


def _utc_minute(value: dt.datetime | str) -> str:
    """A dag_run.logical_date as 'YYYY-MM-DDTHH:MM' in UTC: PostgreSQL returns an aware datetime,
    SQLite the text Airflow stored (UTC, naive)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M")


def main(argv: list[str]) -> int:
    # as airflow/__main__.py: configuration first (its import initialises conf), then the parser
    from airflow import configuration  # noqa: F401
    from airflow.cli import cli_parser
    from airflow.configuration import write_default_airflow_configuration_if_needed

    commands = json.loads(argv[0])
    parser = cli_parser.get_parser()
    write_default_airflow_configuration_if_needed()
    for command in commands:
        args = parser.parse_args(command)
        try:
            args.func(args)
        except SystemExit as stop:  # a command's own failure: the next ones must not run
            if stop.code not in (None, 0):
                print(f"airflow {' '.join(command)}: {stop.code}", file=sys.stderr)
                return stop.code if isinstance(stop.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
