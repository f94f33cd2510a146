"""A night's data tests check what the night wrote (issue #18; macros/data_tests_scope.sql).

With `--vars '{data_tests_scope: night}'` (the nightly DAG's dbt_build) the tests of the
incremental staging models read the rows loaded since the last night whose dbt build passed
(ops.run_ledger, ops.quality_gate); their key tests look the night's keys up in the whole
table. What a data engineer relies on, on one database of the session's server (scale 0.05,
two weeks; staging and its tests only, the models the scope applies to):

- a clean night passes scoped, and its compiled tests carry the scope (the whole set's do not);
- a night that writes a row repeating an old key, or a row without its key, fails the scoped
  tests by name, exactly as the whole set does, and fails again when rerun;
- a fault in an old row (loaded before the last passed night) is the whole set's to find, not
  the night's, unless a day of its feed was re-delivered since: then the night tests whole.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from databases import own_database

pytestmark = pytest.mark.pipeline

REPO = Path(__file__).resolve().parents[1]
DAYS = [dt.date(2026, 9, 1) + dt.timedelta(days=i) for i in range(14)]
NIGHT = ["--vars", "{data_tests_scope: night, data_tests_whole_weekday: null}"]
LOOKED_UP = ["--vars", "{data_tests_scope: night, data_tests_whole_weekday: null, data_tests_lookup_max_share: 1}"]
ONLY_THEIRS = ("--indirect-selection", "cautious")  # staging's own tests, not those of models reading it
UNIQUE_BIDS = "unique_stg_trading_centre__bids_bid_id"
NOT_NULL_TENDERS = "not_null_stg_trading_centre__tenders_tender_id"
UNIQUE_EXPERTS = "unique_stg_trading_centre__experts_expert_id"
UNIQUE_PROJECTS = "unique_stg_approval__projects_project_code"


def ggzy(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name("ggzy")), *args], env=env, cwd=REPO,
                          capture_output=True, text=True)


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"{proc.args[1:]} -> {proc.returncode}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def night(warehouse_url, tmp_path_factory) -> dict:
    """The days before the night loaded and staged (their tests whole, passed) and recorded as
    a passed night (the gate's verdict, the ledger's dbt_build success, as the DAG writes
    them); then the night's day loaded and staged."""
    from ggzy import pipeline

    root = tmp_path_factory.mktemp("scoped")
    url = own_database(warehouse_url, "ggzy_scoped_tests")
    env = os.environ | {"GGZY_HOME": str(root / "home"), "GGZY_WAREHOUSE_URL": url,
                        "DBT_TARGET_PATH": str(root / "target"), "DBT_LOG_PATH": str(root / "logs")}
    ok(ggzy(env, "generate", "--landing", str(root / "landing"), "--from", DAYS[0].isoformat(),
            "--to", DAYS[-1].isoformat(), "--scale", "0.05"))
    # the night: the last day with bids (bids come days after their tenders), after others with bids
    with_bids = [d for d in DAYS if len((root / "landing" / "trading_centre" / d.isoformat() / "bids.csv")
                                        .read_text(encoding="utf-8").splitlines()) > 1]
    assert len(with_bids) >= 2, with_bids
    night_day = with_bids[-1]
    ok(ggzy(env, "load", "--landing", str(root / "landing"), "--from", DAYS[0].isoformat(),
            "--to", (night_day - dt.timedelta(days=1)).isoformat()))
    ok(ggzy(env, "dbt", "build", "-s", "path:models/staging", *ONLY_THEIRS))
    before = night_day - dt.timedelta(days=1)
    run_id = f"scheduled__{before.isoformat()}"
    pipeline.quality_gate(url, before, run_id)
    pipeline.record_run(url, run_id, before, {"dbt_build": "success"}, None, {})
    ok(ggzy(env, "load", "--landing", str(root / "landing"), "--date", night_day.isoformat()))
    ok(ggzy(env, "dbt", "run", "-s", "path:models/staging"))
    with psycopg.connect(url) as conn:
        new, old = conn.execute("select count(*) filter (where batch_date = %s), count(*) filter (where batch_date < %s) "
                                "from staging.stg_trading_centre__bids", (night_day, night_day)).fetchone()
    assert new > 0 and old > 0, "the night and the days before must each have bids"
    return {"url": url, "env": env, "root": root, "day": night_day}


def staging_tests(night: dict, *extra: str) -> tuple[int, dict[str, dict]]:
    """`ggzy dbt test` of the staging models: exit code, {test name: its result}."""
    proc = ggzy(night["env"], "dbt", "test", "-s", "path:models/staging", *ONLY_THEIRS, *extra)
    results = json.loads((night["root"] / "target" / "run_results.json").read_text())["results"]
    named = {r["unique_id"].split(".")[2]: r for r in results if r["unique_id"].startswith("test.")}
    assert len(named) >= 20, proc.stdout[-2000:]
    return proc.returncode, named


def failing(named: dict[str, dict]) -> set[str]:
    return {name for name, r in named.items() if r["status"] != "pass"}


def scope_of(result: dict) -> str | None:
    """The instant after which the compiled test reads rows (None: the whole table)."""
    found = re.findall(r"loaded_at > '([^']+)'::timestamptz", result["compiled_code"])
    assert len(set(found)) <= 1, result["compiled_code"]
    return found[0] if found else None


def test_a_clean_night_passes_and_its_tests_carry_the_scope(night):
    """The compiled tests read what was loaded after the passed night's quality gate began."""
    with psycopg.connect(night["url"]) as conn:
        gate = conn.execute("select min(checked_at) from ops.quality_gate").fetchone()[0]
    code, scoped = staging_tests(night, *NIGHT)
    assert code == 0 and failing(scoped) == set()
    for name in (UNIQUE_BIDS, NOT_NULL_TENDERS, UNIQUE_EXPERTS):
        assert scope_of(scoped[name]) is not None, scoped[name]["compiled_code"]
        assert dt.datetime.fromisoformat(scope_of(scoped[name])) == gate
    code, whole = staging_tests(night)
    assert code == 0 and set(whole) == set(scoped)
    assert [name for name, r in whole.items() if scope_of(r)] == []


def test_a_full_refresh_or_a_sunday_tests_whole(night):
    """The weekly whole run and any --full-refresh read every row (compiled, not run)."""
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).isoweekday()  # Asia/Shanghai
    for flags in ([*NIGHT, "--full-refresh"], ["--vars", f"{{data_tests_scope: night, data_tests_whole_weekday: {today}}}"]):
        ok(ggzy(night["env"], "dbt", "compile", "-s", UNIQUE_BIDS, *flags))
        compiled = next((night["root"] / "target" / "compiled").rglob(f"{UNIQUE_BIDS}.sql")).read_text()
        # dbt's own test on the table itself
        assert re.search(r'from "\w+"\."staging"\."stg_trading_centre__bids"\s+where bid_id is not null', compiled), (flags, compiled)


def test_a_night_writing_a_faulty_row_fails_by_name_as_the_whole_set_does(night):
    """A copy of an old bid with the night's load time (a new row repeating an old key) and a
    tender without its key: the scoped tests fail on both, by name, like the whole set, and a
    rerun of the night fails again (the night passed no test, its rows stay in scope)."""
    with psycopg.connect(night["url"]) as conn:
        night_loaded_at = conn.execute("select max(loaded_at) from staging.stg_trading_centre__bids").fetchone()[0]
        conn.execute("create temp table planted as select * from staging.stg_trading_centre__bids "
                     "where batch_date < %s limit 1", (night["day"],))
        conn.execute("update planted set loaded_at = %s, batch_date = %s", (night_loaded_at, night["day"]))
        conn.execute("insert into staging.stg_trading_centre__bids select * from planted")
        conn.execute("create temp table keyless as select * from staging.stg_trading_centre__tenders limit 1")
        conn.execute("update keyless set tender_id = null, loaded_at = %s, batch_date = %s", (night_loaded_at, night["day"]))
        conn.execute("insert into staging.stg_trading_centre__tenders select * from keyless")
    try:
        code, scoped = staging_tests(night, *NIGHT)
        assert code != 0 and failing(scoped) == {UNIQUE_BIDS, NOT_NULL_TENDERS}
        assert scoped[UNIQUE_BIDS]["failures"] == 1  # the old key, found in the whole table
        # the night's keys looked up by index one by one (a large night reads the table once)
        code, looked_up = staging_tests(night, *LOOKED_UP)
        assert "cross join lateral" in looked_up[UNIQUE_BIDS]["compiled_code"]
        assert code != 0 and failing(looked_up) == failing(scoped) and looked_up[UNIQUE_BIDS]["failures"] == 1
        code, whole = staging_tests(night)
        assert code != 0 and failing(whole) == failing(scoped)
        code, rerun = staging_tests(night, *NIGHT)
        assert code != 0 and failing(rerun) == failing(scoped)
    finally:
        with psycopg.connect(night["url"]) as conn:
            conn.execute("delete from staging.stg_trading_centre__bids where ctid in (select max(ctid) from "
                         "staging.stg_trading_centre__bids group by bid_id having count(*) > 1)")
            conn.execute("delete from staging.stg_trading_centre__tenders where tender_id is null")
    code, clean = staging_tests(night, *NIGHT)
    assert code == 0, failing(clean)


def test_an_old_fault_is_the_whole_sets_unless_its_feed_was_redelivered(night):
    """An expert repeated with an old load time: the previous passed night vouched for such rows,
    so the night does not read it and the whole set does. Once a day of the trading centre is
    re-delivered, the night's tests read the whole table and find it."""
    with psycopg.connect(night["url"]) as conn:
        planted = conn.execute("insert into staging.stg_trading_centre__experts select * from "
                               "staging.stg_trading_centre__experts where batch_date < %s limit 1", (night["day"],))
        assert planted.rowcount == 1
    try:
        code, scoped = staging_tests(night, *NIGHT)
        assert code == 0 and UNIQUE_EXPERTS in scoped
        code, whole = staging_tests(night)
        assert code != 0 and failing(whole) == {UNIQUE_EXPERTS}
        ok(ggzy(night["env"], "load", "--landing", str(night["root"] / "landing"), "--feed", "trading_centre",
                "--date", DAYS[1].isoformat()))
        code, scoped = staging_tests(night, *NIGHT)
        assert code != 0 and failing(scoped) == {UNIQUE_EXPERTS}
        # the trading centre's tests read whole; another feed's stay the night's
        assert scope_of(scoped[UNIQUE_EXPERTS]) is None and scope_of(scoped[UNIQUE_PROJECTS]) is not None
    finally:
        with psycopg.connect(night["url"]) as conn:
            conn.execute("delete from staging.stg_trading_centre__experts where ctid in (select max(ctid) from "
                         "staging.stg_trading_centre__experts group by expert_id having count(*) > 1)")
