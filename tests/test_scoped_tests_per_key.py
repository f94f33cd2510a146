"""A night's data tests on the per-key models read the keys the night recomputed (issue #18;
macros/change_log.sql, macros/data_tests_scope.sql).

A per-key model (strategy replace_changed_keys: a lot's rows replaced together when its inputs
change) logs in ops.model_changes the keys each build recomputed, and a first build or full
refresh as the whole table. With `--vars '{data_tests_scope: night}'` its tests read the rows of
the keys logged since the last night that passed. What a data engineer relies on, on one
database of the session's server (scale 0.05, two weeks; int_bids_joined_to_lots, one row per
bid, keyed by lot):

- the night logs exactly the lots it recomputed: every lot the night's bids belong to;
- a clean night passes scoped and its compiled tests carry the scope (the whole set's do not);
- a fault in a row of the night's lots fails the scoped test by name, as the whole set does; a
  bid repeated in another lot fails `unique` on bid_id, a column that is not the key, found in
  the whole table; a fault in a lot the night did not touch is the whole set's to find;
- after a full refresh of the model the night's tests read the whole table.
"""

from __future__ import annotations

import datetime as dt
import json
import os
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
MODEL = "int_bids_joined_to_lots"
ONLY_ITS = ("--indirect-selection", "cautious")  # the model's own tests
NOT_NULL_SEQ = "not_null_int_bids_joined_to_lots_bidder_bid_seq"
UNIQUE_BID = "unique_int_bids_joined_to_lots_bid_id"


def ggzy(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name("ggzy")), *args], env=env, cwd=REPO,
                          capture_output=True, text=True)


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"{proc.args[1:]} -> {proc.returncode}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def night(warehouse_url, tmp_path_factory) -> dict:
    """The days before the night loaded and built (the model's tests whole, passed) and recorded
    as a passed night, as the DAG writes it; then the night's day loaded and the model built."""
    from ggzy import pipeline

    root = tmp_path_factory.mktemp("scoped_per_key")
    url = own_database(warehouse_url, "ggzy_scoped_per_key")
    env = os.environ | {"GGZY_HOME": str(root / "home"), "GGZY_WAREHOUSE_URL": url,
                        "DBT_TARGET_PATH": str(root / "target"), "DBT_LOG_PATH": str(root / "logs")}
    ok(ggzy(env, "generate", "--landing", str(root / "landing"), "--from", DAYS[0].isoformat(),
            "--to", DAYS[-1].isoformat(), "--scale", "0.05"))
    with_bids = [d for d in DAYS if len((root / "landing" / "trading_centre" / d.isoformat() / "bids.csv")
                                        .read_text(encoding="utf-8").splitlines()) > 1]
    assert len(with_bids) >= 2, with_bids
    night_day = with_bids[-1]
    before = night_day - dt.timedelta(days=1)
    ok(ggzy(env, "load", "--landing", str(root / "landing"), "--from", DAYS[0].isoformat(), "--to", before.isoformat()))
    ok(ggzy(env, "dbt", "build", "-s", f"+{MODEL}", *ONLY_ITS))
    run_id = f"scheduled__{before.isoformat()}"
    pipeline.quality_gate(url, before, run_id)
    pipeline.record_run(url, run_id, before, {"dbt_build": "success"}, None, {})
    ok(ggzy(env, "load", "--landing", str(root / "landing"), "--date", night_day.isoformat()))
    ok(ggzy(env, "dbt", "run", "-s", f"+{MODEL}"))
    with psycopg.connect(url) as conn:
        gate = conn.execute("select min(checked_at) from ops.quality_gate").fetchone()[0]
        logged = {k for (k,) in conn.execute(
            "select key_value from ops.model_changes where model = %s and logged_at > %s", (MODEL, gate))}
        night_lots = {t for (t,) in conn.execute(
            "select distinct tender_id from staging.stg_trading_centre__bids where batch_date = %s", (night_day,))}
        old_lot = conn.execute(f"select min(tender_id) from intermediate.{MODEL} where not (tender_id = any(%s))",
                               (list(logged),)).fetchone()[0]
    assert night_lots and old_lot, "the night and the days before must each have lots with bids"
    return {"url": url, "env": env, "root": root, "gate": gate, "logged": logged, "night_lots": night_lots,
            "old_lot": old_lot}


def model_tests(night: dict, *extra: str) -> tuple[int, dict[str, dict]]:
    """`ggzy dbt test` of the model: exit code, {test name: its result}."""
    proc = ggzy(night["env"], "dbt", "test", "-s", MODEL, *ONLY_ITS, *extra)
    results = json.loads((night["root"] / "target" / "run_results.json").read_text())["results"]
    named = {r["unique_id"].split(".")[2]: r for r in results if r["unique_id"].startswith("test.")}
    assert {NOT_NULL_SEQ, UNIQUE_BID} <= set(named), proc.stdout[-2000:]
    return proc.returncode, named


def failing(named: dict[str, dict]) -> set[str]:
    return {name for name, r in named.items() if r["status"] != "pass"}


def scoped(result: dict) -> bool:
    return "ops.model_changes" in result["compiled_code"]


def test_the_night_logs_the_lots_it_recomputed(night):
    """Every lot the night's bids belong to, and nothing the night did not recompute; the first
    build is logged as the whole table."""
    assert night["night_lots"] <= night["logged"]
    with psycopg.connect(night["url"]) as conn:
        # a logged lot that got no bid tonight changed otherwise (its tender row, its award)
        changed_otherwise = conn.execute(
            """select count(*) from unnest(%s::text[]) as logged(tender_id)
               where not exists (select 1 from staging.stg_trading_centre__tenders as t
                                 where t.tender_id = logged.tender_id and t.loaded_at > %s)
                 and not exists (select 1 from staging.stg_trading_centre__awards as a
                                 where a.tender_id = logged.tender_id and a.loaded_at > %s)
                 and not (logged.tender_id = any(%s))""",
            (list(night["logged"]), night["gate"], night["gate"], list(night["night_lots"]))).fetchone()[0]
        whole = conn.execute("select count(*) from ops.model_changes where model = %s and key_value is null "
                             "and logged_at < %s", (MODEL, night["gate"])).fetchone()[0]
    assert changed_otherwise == 0, "a lot was recomputed whose inputs the night did not touch"
    assert whole == 1


def test_a_clean_night_passes_and_its_tests_carry_the_scope(night):
    code, night_tests = model_tests(night, *NIGHT)
    assert code == 0 and failing(night_tests) == set()
    assert scoped(night_tests[NOT_NULL_SEQ]) and scoped(night_tests[UNIQUE_BID])
    code, whole = model_tests(night)
    assert code == 0 and set(whole) == set(night_tests)
    assert [name for name, r in whole.items() if scoped(r)] == []


def test_faults_in_the_nights_lots_fail_by_name_and_old_ones_are_the_whole_sets(night):
    """A bid of a night's lot without its sequence number and a bid of the night repeated in an
    old lot fail the night's tests by name; the same fault in an old lot is the whole set's."""
    night_lot = sorted(night["night_lots"])[0]
    with psycopg.connect(night["url"]) as conn:
        bid_id, seq = conn.execute(f"select bid_id, bidder_bid_seq from intermediate.{MODEL} where tender_id = %s "
                                   "order by bid_id limit 1", (night_lot,)).fetchone()
        conn.execute(f"insert into intermediate.{MODEL} select * from intermediate.{MODEL} where bid_id = %s", (bid_id,))
        conn.execute(f"update intermediate.{MODEL} set tender_id = %s where ctid = "
                     f"(select max(ctid) from intermediate.{MODEL} where bid_id = %s)", (night["old_lot"], bid_id))
        conn.execute(f"update intermediate.{MODEL} set bidder_bid_seq = null where bid_id = %s and tender_id = %s",
                     (bid_id, night_lot))
    try:
        code, night_tests = model_tests(night, *NIGHT)
        assert code != 0 and failing(night_tests) == {NOT_NULL_SEQ, UNIQUE_BID}
        # the night's lots looked up by index one by one (a large night reads the table once)
        code, looked_up = model_tests(night, *LOOKED_UP)
        assert "cross join lateral" in looked_up[NOT_NULL_SEQ]["compiled_code"]
        assert code != 0 and failing(looked_up) == failing(night_tests)
        code, whole = model_tests(night)
        assert failing(whole) == failing(night_tests)
    finally:
        with psycopg.connect(night["url"]) as conn:
            conn.execute(f"delete from intermediate.{MODEL} where bid_id = %s and tender_id = %s", (bid_id, night["old_lot"]))
            conn.execute(f"update intermediate.{MODEL} set bidder_bid_seq = %s where bid_id = %s", (seq, bid_id))
    with psycopg.connect(night["url"]) as conn:
        bid_id, seq = conn.execute(f"select bid_id, bidder_bid_seq from intermediate.{MODEL} where tender_id = %s "
                                   "order by bid_id limit 1", (night["old_lot"],)).fetchone()
        conn.execute(f"update intermediate.{MODEL} set bidder_bid_seq = null where bid_id = %s", (bid_id,))
    try:
        code, night_tests = model_tests(night, *NIGHT)
        assert code == 0, failing(night_tests)
        code, looked_up = model_tests(night, *LOOKED_UP)
        assert code == 0, failing(looked_up)
        code, whole = model_tests(night)
        assert code != 0 and failing(whole) == {NOT_NULL_SEQ}
    finally:
        with psycopg.connect(night["url"]) as conn:
            conn.execute(f"update intermediate.{MODEL} set bidder_bid_seq = %s where bid_id = %s", (seq, bid_id))


def test_after_a_full_refresh_the_night_tests_whole(night):
    """A full refresh after the last passed night: the next night's tests read the whole table.
    A passed night that made the full refresh itself (its gate before the refresh, as the DAG
    orders them, its ledger row after) tested it whole, so the night after it is scoped again."""
    from ggzy import pipeline

    ok(ggzy(night["env"], "dbt", "run", "-s", MODEL, "--full-refresh"))
    code, night_tests = model_tests(night, *NIGHT)
    assert code == 0 and [name for name, r in night_tests.items() if scoped(r)] == []

    run_id = "scheduled__refresh_night"
    pipeline.quality_gate(night["url"], DAYS[-1], run_id)
    ok(ggzy(night["env"], "dbt", "run", "-s", MODEL, "--full-refresh"))
    code, night_tests = model_tests(night, *NIGHT)
    assert code == 0 and [name for name, r in night_tests.items() if scoped(r)] == []
    pipeline.record_run(night["url"], run_id, DAYS[-1], {"dbt_build": "success"}, None, {})
    code, night_tests = model_tests(night, *NIGHT)
    assert code == 0 and {NOT_NULL_SEQ, UNIQUE_BID} <= {name for name, r in night_tests.items() if scoped(r)}
