"""A night's incremental staging run reads the raw months it was delivered, not the history (issue #18).

One generated landing zone (scale 0.05) across a month end: the August days and the first of
September loaded and staged, then September 2nd loaded and staged as a night. The night must
bring that day's market entities (delivered every day, from the first) into staging while it
scans no raw partition of August (the server's per-table scan counters, pg_stat_user_tables),
and must scan September's. Days load one at a time (--workers 1), as a night loads its day
after the days before: the staging watermark is the newest load it has kept. That it gives the
rows a full refresh gives is tests/test_incremental.py's business.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from databases import own_database

pytestmark = pytest.mark.pipeline

REPO = Path(__file__).resolve().parents[1]
DAYS = [dt.date(2026, 8, 30) + dt.timedelta(days=i) for i in range(4)]  # Aug 30 .. Sep 2
NIGHT = DAYS[-1]


def ggzy(env: dict[str, str], *args: str) -> None:
    proc = subprocess.run([str(Path(sys.executable).with_name("ggzy")), *args], env=env, cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"ggzy {' '.join(args)} -> {proc.returncode}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"


def scans(url: str, table: str) -> int:
    """Sequential and index scans the server counted on a table so far."""
    with psycopg.connect(url) as conn:
        row = conn.execute("select seq_scan + coalesce(idx_scan, 0) from pg_stat_user_tables "
                           "where schemaname = 'raw' and relname = %s", (table,)).fetchone()
    assert row is not None, f"no raw table {table}"
    return row[0]


@pytest.fixture(scope="module")
def night(warehouse_url, tmp_path_factory) -> dict:
    from ggzy.feeds import contract as c
    from ggzy.feeds.raw import partition_name

    root = tmp_path_factory.mktemp("staging-night")
    url = own_database(warehouse_url, "ggzy_staging_night")
    env = os.environ | {"GGZY_HOME": str(root / "home"), "GGZY_WAREHOUSE_URL": url,
                        "DBT_TARGET_PATH": str(root / "target"), "DBT_LOG_PATH": str(root / "logs")}
    landing = root / "landing"
    ggzy(env, "generate", "--landing", str(landing), "--from", DAYS[0].isoformat(), "--to", NIGHT.isoformat(),
         "--scale", "0.05")
    ggzy(env, "load", "--landing", str(landing), "--from", DAYS[0].isoformat(), "--to", DAYS[-2].isoformat(),
         "--workers", "1")
    ggzy(env, "dbt", "run", "-s", "path:models/staging")
    ggzy(env, "load", "--landing", str(landing), "--date", NIGHT.isoformat())
    entities = next(ff for ff in c.files_of("trading_centre") if ff.stem == "entities")
    august, september = partition_name(entities, DAYS[0]), partition_name(entities, NIGHT)
    before = {p: scans(url, p) for p in (august, september)}
    ggzy(env, "dbt", "run", "-s", "path:models/staging")
    after = {p: scans(url, p) for p in (august, september)}
    with psycopg.connect(url) as conn:
        delivered, staged = conn.execute(
            "select (select count(*) from raw.trading_centre__entities where _batch_date = %(d)s), "
            "(select count(*) from staging.stg_trading_centre__entities where batch_date = %(d)s)", {"d": NIGHT}).fetchone()
        august_rows = conn.execute(f'select count(*) from raw."{august}"').fetchone()[0]
    return {"before": before, "after": after, "august": august, "september": september,
            "delivered": delivered, "staged": staged, "august_rows": august_rows}


def test_the_night_staged_the_delivered_entities(night):
    assert night["delivered"] > 0, "the generated night delivered no entities: the test shows nothing"
    assert night["august_rows"] > 0, "no entities in August: the test shows nothing"
    assert night["staged"] > 0


def test_the_night_read_only_the_delivered_month_of_raw(night):
    august, september = night["august"], night["september"]
    assert night["after"][september] > night["before"][september], "the night did not read September's entities"
    assert night["after"][august] == night["before"][august], "the night read the entities of August, not delivered"
