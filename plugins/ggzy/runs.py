"""Running the nightly DAG through Airflow from the command line.

`run_dates` uses `airflow dags test` (a real DagRun in the metadata DB, executed
in-process: no scheduler needed — what CI and `ggzy backfill` use);
`backfill_with_scheduler` uses `airflow backfill create` and waits for the
scheduler to finish the runs (what an engineer does on the running system).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time

from ggzy import config
from ggzy.airflow_cli import run_commands
from ggzy.airflow_cli import run_states as metadata_run_states
from ggzy.airflow_env import airflow_env
from ggzy.services import airflow_bin, migrate_commands

DAG_ID = "ggzy_nightly"


def daterange(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def logical_date(d: dt.date) -> str:
    """Logical date of the run that processes batch date d (02:00 Asia/Shanghai)."""
    return f"{d.isoformat()}T02:00:00+08:00"


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = airflow_env()
    env.setdefault("GGZY_SENSOR_MODE", "poke")
    env.setdefault("GGZY_SENSOR_POKE_SECONDS", "5")
    env.update(extra or {})
    return env


def run_dates(dates: list[dt.date], env_extra: dict[str, str] | None = None) -> list[tuple[dt.date, str]]:
    """Run the DAG once per batch date, in order; returns (date, state) per run."""
    run_commands([*migrate_commands(), ["dags", "reserialize"]], _env(env_extra))
    out = []
    for d in dates:
        began = dt.datetime.now(dt.UTC)
        proc = subprocess.run([airflow_bin(), "dags", "test", DAG_ID, logical_date(d)], env=_env(env_extra),
                              capture_output=True, text=True)
        log_dir = config.home() / "run"
        log_dir.mkdir(parents=True, exist_ok=True)
        (log_dir / f"dags-test-{d.isoformat()}.log").write_text(proc.stdout + proc.stderr)
        state = run_state(d, env_extra) or ("success" if proc.returncode == 0 else "failed")
        if state == "success" and not _ledger_written(d, began):
            # Airflow marks a run without task instances successful (e.g. a logical date
            # before the DAG's start_date): nothing was loaded or built, so say so.
            state = "failed: no task ran (record_run wrote no ledger row)"
        if state != "success":
            tail = (proc.stdout + proc.stderr)[-4000:]
            print(tail)
        out.append((d, state))
    return out


def _ledger_written(d: dt.date, since: dt.datetime) -> bool:
    from ggzy import db

    with db.connect() as conn:
        row = conn.execute("select 1 from ops.run_ledger where batch_date = %s and finished_at >= %s",
                           (d, since)).fetchone()
    return row is not None


def run_state(d: dt.date, env_extra: dict[str, str] | None = None) -> str | None:
    """State of the run of batch date d in Airflow's metadata (None: no run yet)."""
    return run_states([d], env_extra)[d]


def run_states(dates: list[dt.date], env_extra: dict[str, str] | None = None) -> dict[dt.date, str | None]:
    """State of the run of each batch date, read from Airflow's metadata in one query."""
    states = metadata_run_states(DAG_ID, [dt.datetime.fromisoformat(logical_date(d)) for d in dates],
                                 _env(env_extra)["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    return dict(zip(dates, states, strict=True))


def backfill_with_scheduler(start: dt.date, end: dt.date, timeout: float = 3600,
                            reprocess: str = "none") -> dict[dt.date, str | None]:
    """`airflow backfill create` over [start, end] and wait for the scheduler."""
    interval_end = dt.datetime.fromisoformat(logical_date(end)) + dt.timedelta(days=1)
    if dt.datetime.now(dt.UTC) < interval_end:
        raise SystemExit(f"batch date {end}: its interval ends at {interval_end.isoformat()}; the scheduler only "
                         "backfills complete intervals (use `ggzy backfill` without --scheduler to run it now)")
    # one process for the three (each `airflow` start costs ~6 s); backfill dates are the runs'
    # logical dates, and the DAG's interval starts at 02:00 +08
    proc = run_commands([["dags", "reserialize"], ["dags", "unpause", DAG_ID],
                         ["backfill", "create", "--dag-id", DAG_ID, "--from-date", logical_date(start),
                          "--to-date", logical_date(end), "--reprocess-behavior", reprocess,
                          "--max-active-runs", "1"]], _env(), check=False)
    if proc.returncode != 0 and "already" not in (proc.stdout + proc.stderr).lower():
        raise SystemExit(f"airflow backfill create failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    dates = daterange(start, end)
    deadline = time.time() + timeout
    states: dict[dt.date, str | None] = {}
    while time.time() < deadline:
        states = run_states(dates)
        if all(s in ("success", "failed") for s in states.values()):
            break
        time.sleep(2)
    return states
