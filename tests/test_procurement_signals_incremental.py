"""The procurement red flags (int_signals_procurement, pf_*) by what changed (issue #18).

Both models are incremental by lot (macros/changed_keys.sql). The split purchases
(pf_split_lots) are judged in int_lots_split_purchase_signals: a night compares only the lots
int_lots_summarised logged (macros/change_log.sql), the split candidates whose window reaches a
logged lot's group and the lots flagged with a logged lot among their related lots; every lot
when the thresholds seed changed. int_signals_procurement takes those signals as they are: a
night compares only the lots its per-lot parents logged (int_lots_summarised,
int_bids_joined_to_lots, int_lots_split_purchase_signals); every lot when what all lots share
(minimum periods, the calendar) changed. What a data engineer relies on, on one database of the
session's server (scale 0.05, eight days), after every night of a sequence:

- the flags in each table are those a full refresh of its model computes from the same inputs
  (its SQL compiled with --full-refresh, run beside the table: the procurement model's reads
  the split table, itself compared with its full refresh), every lot of int_lots_summarised has
  rows in int_signals_procurement (its flags or a placeholder), no other lot has any, and the
  split table has rows for the lots a full refresh gives rows (the candidates);
- real nights (a new day, a re-delivered day with a changed bid, two days at once) compare
  the logged lots only, in both models;
- a lot added to an owner's group of lots each below the threshold re-judges the group's other
  lots (the three together pass it: all three flagged, though only the new one was logged), a
  lot removed from it un-flags the others; the split lots are written into int_lots_summarised
  and logged as its strategy does, and the two models alone are run;
- a change of the thresholds seed, which no lot's log shows, makes the split model compare
  every lot (and the procurement model the lots it logged), a change of the calendar the
  procurement model.

tests/test_incremental.py builds this model once per database (its last build), so its mart
checksums do not show the nights above.
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
DAYS = [dt.date(2026, 9, 1) + dt.timedelta(days=i) for i in range(8)]
MODEL = "int_signals_procurement"
SPLIT_MODEL = "int_lots_split_purchase_signals"
MODELS = (MODEL, SPLIT_MODEL)
SIGNAL_COLUMNS = ("rule_id, subject_type, subject_id, tender_id, entity_ids, expert_ids, signal_date, score, "
                  "evidence::text, department_code")
NO_TESTS = ("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
OWNER = "TEST-SPLIT-OWNER"


def ggzy(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([str(Path(sys.executable).with_name("ggzy")), *args], env=env, cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"ggzy {' '.join(args)} -> {proc.returncode}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return proc.stdout


class Warehouse:
    def __init__(self, url: str, env: dict[str, str], root: Path):
        self.url, self.env, self.root = url, env, root
        self.steps: dict[str, dict] = {}

    def execute(self, sql: str, params: tuple = ()) -> None:
        with psycopg.connect(self.url) as conn:
            conn.execute(sql, params)

    def flags(self, model: str, sql: str | None = None) -> list[tuple]:
        """The flags in the model's table, or those of `sql` (the model's select)."""
        rows = f"({sql}) as full_refresh" if sql else f"intermediate.{model}"
        with psycopg.connect(self.url) as conn:
            conn.execute("set enable_nestloop = off")
            return conn.execute(f"select {SIGNAL_COLUMNS} from {rows} where rule_id is not null "
                                "order by rule_id, subject_id").fetchall()

    def lots(self, model: str, sql: str | None = None) -> list[str]:
        """The lots with rows (flags or a placeholder) in the model's table, or in `sql`."""
        rows = f"({sql}) as full_refresh" if sql else f"intermediate.{model}"
        with psycopg.connect(self.url) as conn:
            conn.execute("set enable_nestloop = off")
            return [r[0] for r in conn.execute(f"select distinct tender_id from {rows} order by 1").fetchall()]

    def compiled(self) -> dict[str, str]:
        return {m: (self.root / "target" / "compiled" / "ggzy" / "models" / "intermediate" / "risk" / f"{m}.sql")
                .read_text(encoding="utf-8") for m in MODELS}

    def night(self, name: str, *, models_only: bool = False) -> None:
        """A night's build of both models (with their parents, or the two alone), then what it
        left: whether each compared only candidate lots (its compiled SQL reads them from the
        change log), their flags, those a full refresh computes from the same inputs (each model
        compiled with --full-refresh, run beside the tables), the lots without rows and the rows
        of no lot in int_signals_procurement, the split table's lots and a full refresh's."""
        ggzy(self.env, "dbt", "build", "-s", *(MODELS if models_only else (f"+{MODEL}",)), *NO_TESTS)
        compiled = self.compiled()
        ggzy(self.env, "dbt", "compile", "-s", *MODELS, "--full-refresh")
        full = self.compiled()
        with psycopg.connect(self.url) as conn:
            missing, extra = conn.execute(f"""
                select
                    (select count(*) from intermediate.int_lots_summarised as l
                     where not exists (select 1 from intermediate.{MODEL} as s where s.tender_id = l.tender_id)),
                    (select count(*) from intermediate.{MODEL} as s
                     where not exists (select 1 from intermediate.int_lots_summarised as l where l.tender_id = s.tender_id))
            """).fetchone()
        flags = self.flags(MODEL)
        self.steps[name] = {
            "candidates_only": {m: "ops.model_changes" in compiled[m] for m in MODELS},
            "flags": {m: self.flags(m) for m in MODELS},
            "full_refresh": {m: self.flags(m, full[m]) for m in MODELS},
            "lots_without_rows": missing, "rows_of_no_lot": extra,
            "split_lots": self.lots(SPLIT_MODEL), "split_lots_full_refresh": self.lots(SPLIT_MODEL, full[SPLIT_MODEL]),
            "split": {row[2] for row in flags if row[0] == "pf_split_lots" and row[2].startswith("TEST-SPLIT")},
        }

    def load(self, *args: str, landing: str = "landing") -> None:
        ggzy(self.env, "load", "--landing", str(self.root / landing), *args)

    def add_split_lot(self, tender_id: str, announced_on: str, amount: int) -> None:
        """A lot of OWNER below the construction threshold, negotiated (not the required
        tender), written into int_lots_summarised (a copy of one of its lots) and logged as its
        strategy logs."""
        self.execute("""
            insert into intermediate.int_lots_summarised
            select (jsonb_populate_record(null::intermediate.int_lots_summarised, to_jsonb(l) || jsonb_build_object(
                'tender_id', %s::text, 'tenderer_id', %s::text, 'category', 'construction', 'industry', 'housing',
                'project_code', null, 'procurement_method', 'competitive_negotiation', 'control_price', %s::numeric,
                'announced_on', %s::date, 'lot_date', %s::date
            ))).*
            from (select * from intermediate.int_lots_summarised order by tender_id limit 1) as l
        """, (tender_id, OWNER, amount, announced_on, announced_on))
        self.log_lot(tender_id)

    def log_lot(self, tender_id: str) -> None:
        self.execute("insert into ops.model_changes (model, key_value) values ('int_lots_summarised', %s)", (tender_id,))


@pytest.fixture(scope="module")
def nights(warehouse_url, tmp_path_factory) -> dict[str, dict]:
    from test_incremental import altered_delivery

    root = tmp_path_factory.mktemp("procurement_incremental")
    url = own_database(warehouse_url, "ggzy_procurement_incremental")
    env = os.environ | {"GGZY_HOME": str(root / "home"), "GGZY_WAREHOUSE_URL": url,
                        "DBT_TARGET_PATH": str(root / "target"), "DBT_LOG_PATH": str(root / "logs")}
    ggzy(env, "generate", "--landing", str(root / "landing"), "--from", DAYS[0].isoformat(),
         "--to", DAYS[-1].isoformat(), "--scale", "0.05")
    busy, _ = altered_delivery(root / "landing", root / "altered")
    wh = Warehouse(url, env, root)
    wh.load("--from", DAYS[0].isoformat(), "--to", DAYS[4].isoformat())
    wh.night("first build")
    # real nights: a new day; the busiest day delivered with a bid changed and one added, then
    # as it really was; two days at once
    wh.load("--date", DAYS[5].isoformat())
    wh.night("new day")
    wh.load("--feed", "trading_centre", "--date", busy.isoformat(), landing="altered")
    wh.night("altered delivery")
    wh.load("--feed", "trading_centre", "--date", busy.isoformat())
    wh.night("re-delivery")
    wh.load("--from", DAYS[6].isoformat(), "--to", DAYS[7].isoformat())
    wh.night("two days")
    # a group of one owner: A and B (3.0 M, under the 4 M threshold), then C (4.5 M), then B gone
    wh.add_split_lot("TEST-SPLIT-A", "2026-09-02", 1_500_000)
    wh.add_split_lot("TEST-SPLIT-B", "2026-09-04", 1_500_000)
    wh.night("group of two", models_only=True)
    wh.add_split_lot("TEST-SPLIT-C", "2026-09-06", 1_500_000)
    wh.night("third lot", models_only=True)
    wh.execute("delete from intermediate.int_lots_summarised where tender_id = 'TEST-SPLIT-B'")
    wh.log_lot("TEST-SPLIT-B")
    wh.night("second lot gone", models_only=True)
    wh.night("nothing logged", models_only=True)
    # what no lot's log shows: the construction threshold in force lowered under A + C, a
    # weekday of the history made a holiday
    wh.execute("update reference.mandatory_tender_thresholds set threshold_yuan = 2900000 "
               "where category = 'construction' and valid_to is null")
    wh.night("threshold lowered", models_only=True)
    wh.night("after the threshold", models_only=True)
    wh.execute("update intermediate.int_workdays set is_workday = not is_workday where date_day = %s", (DAYS[2],))
    wh.night("calendar changed", models_only=True)
    return wh.steps


def test_every_night_equals_a_full_refresh(nights):
    assert nights["first build"]["flags"][MODEL], "no procurement flag at all: the comparison would show nothing"
    assert nights["first build"]["split_lots"], "no split candidate at all: the comparison would show nothing"
    assert nights["two days"]["flags"][MODEL] != nights["first build"]["flags"][MODEL]
    for name, step in nights.items():
        assert step["flags"] == step["full_refresh"], name
        assert step["split_lots"] == step["split_lots_full_refresh"], name
        assert (step["lots_without_rows"], step["rows_of_no_lot"]) == (0, 0), name
    # the procurement table's split flags are the split table's
    for name, step in nights.items():
        assert ([f for f in step["flags"][MODEL] if f[0] == "pf_split_lots"] == step["flags"][SPLIT_MODEL]), name


def test_real_nights_compare_the_logged_lots(nights):
    assert not any(nights["first build"]["candidates_only"].values())
    assert all(all(nights[n]["candidates_only"].values())
               for n in ("new day", "altered delivery", "re-delivery", "two days"))


def test_a_lot_added_to_a_group_rejudges_the_others(nights):
    """Only C was logged the night it came; A and B were flagged with it (compared with the
    full refresh above). B gone: A and C are under the threshold again."""
    assert all(all(nights[n]["candidates_only"].values()) for n in ("group of two", "third lot", "second lot gone"))
    assert nights["group of two"]["split"] == set()
    assert nights["third lot"]["split"] == {"TEST-SPLIT-A", "TEST-SPLIT-B", "TEST-SPLIT-C"}
    assert nights["second lot gone"]["split"] == set()


def test_a_change_no_lot_logs_compares_every_lot(nights):
    """The thresholds seed: the split model compares every lot and logs those it recomputed, the
    procurement model compares those; the calendar: the procurement model compares every lot."""
    assert all(nights["nothing logged"]["candidates_only"].values())
    assert nights["threshold lowered"]["candidates_only"] == {MODEL: True, SPLIT_MODEL: False}
    assert nights["threshold lowered"]["split"] == {"TEST-SPLIT-A", "TEST-SPLIT-C"}
    assert all(nights["after the threshold"]["candidates_only"].values())
    assert nights["calendar changed"]["candidates_only"] == {MODEL: False, SPLIT_MODEL: True}
