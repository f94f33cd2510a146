"""Run a converted market through the project's own pipeline into a scratch database.

The scratch database `ggzy_eval_<name>` lives on the warehouse's server, is bootstrapped
like the warehouse (ggzy.schema), loaded batch by batch (ggzy.feeds.load), gated by the
Great Expectations checkpoints (ggzy.quality) and built by `dbt build` with the
project's profile pointed at it (ggzy.transform.dbt_env). Nothing touches the warehouse
database itself; dbt writes its target/ and logs into the run's work folder, so runs
beside a nightly build do not collide.
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from ggzy import config, schema
from ggzy.realdata.convert import Conversion

DB_PREFIX = "ggzy_eval_"
# dbt's unit tests check the SQL on fixed inputs, not the data: a third of the build's time,
# and the same on every market (the test suite runs them)
DBT_SELECTION = ("--exclude", "test_type:unit")


class PipelineError(RuntimeError):
    """A step of the pipeline failed on a converted market; the message says which and why."""


@dataclass
class PipelineRun:
    database: str
    url: str
    seconds: dict[str, float] = field(default_factory=dict)
    batches: int = 0
    rows_delivered: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    gate_failed: list[str] = field(default_factory=list)  # batch dates whose gate failed, and why
    dbt_exit: int = 0


def database_url(server_url: str, database: str) -> str:
    parts = urlsplit(config.libpq_url(server_url))
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def create_database(server_url: str, database: str) -> str:
    """(Re)create the scratch database; returns its URL."""
    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{database}" with (force)')
        conn.execute(f'create database "{database}"')
    url = database_url(server_url, database)
    schema.bootstrap(url)
    return url


def drop_database(server_url: str, database: str) -> None:
    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{database}" with (force)')


def run_pipeline(conv: Conversion, server_url: str, workdir: Path, log=print) -> PipelineRun:
    """load → GX gate → dbt build of one converted market; raises PipelineError on a refused
    batch, a quarantined row (the conversion must be clean) or a failed dbt build. A failed
    gate is recorded in the result (it would withhold publication, not the risk marts)."""
    from ggzy.feeds.load import load_range
    from ggzy.transform import dbt_command, dbt_env

    database = DB_PREFIX + conv.name
    run = PipelineRun(database, create_database(server_url, database))
    t0 = time.monotonic()
    first, last = conv.batch_dates[0], conv.batch_dates[-1]
    results = load_range(conv.landing, first, last, url=run.url, workers=2)
    refused = [r for r in results if r.status == "refused"]
    if refused:
        raise PipelineError(f"{conv.name}: batch refused: {refused[0].refusal}")
    run.batches = len(results)
    run.rows_delivered = sum(r.delivered for r in results)
    run.rows_loaded = sum(r.loaded for r in results)
    run.rows_quarantined = sum(r.quarantined for r in results)
    if run.rows_quarantined:
        bad = next(r for r in results if r.quarantined)
        raise PipelineError(f"{conv.name}: the loader quarantined {run.rows_quarantined} converted rows, "
                            f"first in {bad.feed}/{bad.batch_date}: {dict(bad.quarantined_by_rule)}")
    run.seconds["load"] = time.monotonic() - t0
    log(f"{conv.name}: loaded {run.batches} batches, {run.rows_loaded} rows ({run.seconds['load']:.0f} s)")

    # The gate's verdicts feed publication, not the risk marts: it runs beside dbt (GX is
    # ~3 s of Python per batch date, dbt mostly waits on PostgreSQL).
    gate = threading.Thread(target=_gate_all, args=(conv, run), name=f"gate-{conv.name}")
    gate.start()
    t0 = time.monotonic()
    env = dbt_env(run.url)
    env.update(DBT_TARGET_PATH=str(workdir / "dbt-target"), DBT_LOG_PATH=str(workdir / "dbt-logs"))
    log_file = workdir / "dbt-build.log"
    with open(log_file, "w", encoding="utf-8") as fh:
        proc = subprocess.run([*dbt_command(), "build", "--no-use-colors", *DBT_SELECTION], cwd=config.dbt_project_dir(),
                              env=env, stdout=fh, stderr=subprocess.STDOUT)
    run.dbt_exit = proc.returncode
    run.seconds["dbt"] = time.monotonic() - t0
    log(f"{conv.name}: dbt build exit {proc.returncode} ({run.seconds['dbt']:.0f} s; log {log_file})")
    gate.join()
    log(f"{conv.name}: GX gate on {len(conv.batch_dates)} batch dates, {len(run.gate_failed)} failed "
        f"({run.seconds['gate']:.0f} s)")
    if proc.returncode != 0:
        tail = log_file.read_text(encoding="utf-8").splitlines()
        errors = [line for line in tail if "ERROR" in line or "FAIL" in line][-8:]
        raise PipelineError(f"{conv.name}: dbt build failed (exit {proc.returncode}); log {log_file}:\n  "
                            + "\n  ".join(errors or tail[-8:]))
    return run


def _gate_all(conv: Conversion, run: PipelineRun) -> None:
    from ggzy.quality import run_gate

    t0 = time.monotonic()
    for day in conv.batch_dates:
        try:
            verdict = run_gate(run.url, day, f"eval_real_{conv.name}")
        except Exception as e:  # noqa: BLE001 - reported with the result, the evaluation goes on
            run.gate_failed.append(f"{day}: gate error {e}")
            continue
        if not verdict["passed"]:
            run.gate_failed.append(f"{day}: {verdict['critical']}")
    run.seconds["gate"] = time.monotonic() - t0


def keep_or_drop(server_url: str, name: str, keep: bool) -> None:
    """Drop the scratch database of a data set (also after a failed step) unless kept."""
    if not keep:
        drop_database(server_url, DB_PREFIX + name)
