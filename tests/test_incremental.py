"""Incremental builds give the warehouse a full refresh builds (issue #18 items 1 and 2).

The staging models keep "the newest delivered version per key" night by night: an
incremental run recomputes only the keys the batches loaded since the last run touch
(macros/incremental_newest_version.sql). The per-lot models (int_bids_joined_to_lots,
int_lots_summarised, int_lots_price_screened, int_lots_price_patterns_counted,
int_expert_scores_judged, int_lots_bid_collusion_signals, int_lots_related_bidders_signals,
int_lots_split_purchase_signals, int_expert_panels, int_lots_employed_experts,
int_tender_report_dates; and, keyed by object, the inspection objects, dim_inspection_objects_undated),
the experts' counts (int_expert_bidder_pairs_counted,
int_expert_winner_pairs_counted, keyed by expert) and the lots' links to their projects (int_tenders_linked_to_projects, whose inputs include the candidate
projects) recompute only the lots whose input rows changed (macros/changed_keys.sql); the lots'
closed-loop trace (int_tenders_traced_undated) and departments (int_tenders_assigned_to_departments)
rewrite only the rows that differ from the kept ones (their fingerprint is the row); the co-bidding network
(int_lot_bidders, int_cobid_history_by_lot, int_cobid_history_by_day, int_cobid_null_calibration,
int_bidder_pairs_scored, int_lot_network_scores) judges each lot as of its date and recomputes the
lots (and month ends) whose history up to their date changed (int_cobid_history_by_day).
Whatever order the batches arrive in, the result must be the one a full refresh computes from
all of raw. Three databases on the session's server, one generated
landing zone (scale 0.05, eight days), `ggzy` commands as a night runs them (load the day, then
dbt; incremental unless --full-refresh):

- A: the days in date order, an incremental run after one to three of them (a night after a
  pause takes several), the per-lot models and their parents built after the fourth and the seventh;
- B: the first day, then the others newest first (back-fills, one to three to a run), two days
  first delivered as different files (a bid added, a bid's newer version; a bid on a day without
  bids) and re-delivered as the real ones, the first day re-delivered last; the per-lot models
  built after the altered deliveries and in the middle of the back-fills;
- C: every day loaded (one `ggzy load --from --to`), then one `ggzy dbt build --full-refresh`.

A and B end with one `ggzy dbt build` (staging and per-lot models incremental, the rest rebuilt as
every night; models and seeds, the data tests are other tests' business); then `ggzy checksum` of
every staging, mart and disclosure table and of the per-lot tables (PER_LOT_TABLES, the two
signal tables read from them, NETWORK_TABLES) must be equal in A, B and C. What this does not
show: the other intermediate tables and the marts are rebuilt every night; a lot whose every bid
disappears is not among these deliveries (checked by hand at scale 1); the eight days lie in one
month, so no network calibration month end is computed incrementally here
(tests/risk/test_network_null_model.py builds one, by full refresh).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from databases import own_database

pytestmark = pytest.mark.pipeline

REPO = Path(__file__).resolve().parents[1]
DAYS = [dt.date(2026, 9, 1) + dt.timedelta(days=i) for i in range(8)]
SCHEMAS = ("staging", "marts", "disclosure")
PER_LOT_TABLES = ("intermediate.int_lots_price_screened", "intermediate.int_lot_price_screens",
                  "intermediate.int_lots_price_patterns_counted", "intermediate.int_lot_price_patterns",
                  "intermediate.int_expert_scores_judged", "intermediate.int_bids_joined_to_lots",
                  "intermediate.int_lots_summarised", "intermediate.int_lots_bid_collusion_signals",
                  "intermediate.int_lots_related_bidders_signals", "intermediate.int_tenders_linked_to_projects",
                  "intermediate.int_lots_split_purchase_signals", "intermediate.int_tenders_traced_undated",
                  "intermediate.int_tenders_assigned_to_departments", "intermediate.int_entity_links_classified")
# the per-key tables of the experts and the report dates: few rows or none at this scale (no
# expert meets a winner four times in eight days), compared all the same
SPARSE_PER_KEY_TABLES = ("intermediate.int_expert_panels", "intermediate.int_lots_employed_experts",
                         "intermediate.int_expert_winner_pairs_counted", "intermediate.int_expert_bidder_pairs_counted",
                         "intermediate.int_tender_report_dates")
INCREMENTAL_PER_LOT_MODELS = ("int_lots_price_screened", "int_lots_price_patterns_counted", "int_expert_scores_judged",
                              "int_bids_joined_to_lots", "int_lots_summarised", "int_lots_bid_collusion_signals",
                              "int_lots_related_bidders_signals", "int_lot_bidders", "int_cobid_history_by_lot",
                              "int_cobid_history_by_day", "int_cobid_null_calibration",
                              "int_bidder_pairs_scored", "int_lot_network_scores", "int_tenders_linked_to_projects",
                              "int_lots_split_purchase_signals", "int_tenders_traced_undated",
                              "int_tenders_assigned_to_departments", "int_expert_panels", "int_lots_employed_experts",
                              "int_expert_winner_pairs_counted", "int_expert_bidder_pairs_counted",
                              "int_tender_report_dates", "fct_tender_risk_undated", "int_entity_links_classified",
                              "dim_inspection_objects_undated")
# the signals of the per-lot signal models (their rows without placeholders): few or none at this scale
PER_LOT_SIGNAL_TABLES = ("intermediate.int_signals_bid_collusion", "intermediate.int_signals_related_bidders",
                         "intermediate.int_signals_screens")
# the co-bidding network, judged as of each lot's date and incremental by lot (a back-filled day
# re-judges every lot since), built with the per-lot models; int_signals_experts is rebuilt every
# night from incremental inputs: a drift of theirs would show in it first
NETWORK_TABLES = ("intermediate.int_bidder_pairs_scored", "intermediate.int_lot_network_scores",
                  "intermediate.int_signals_experts", "intermediate.int_lot_bidders",
                  "intermediate.int_cobid_null_calibration", "intermediate.int_cobid_history_by_lot",
                  "intermediate.int_cobid_history_by_day")
# the per-lot models reading staging tables: on a night, the lots whose staging rows were stamped
# since their last build (macro changed_keys_since_last_staged), every lot after a re-delivery
STAGED_PER_LOT_MODELS = ("int_bids_joined_to_lots", "int_lots_summarised", "int_expert_scores_judged",
                         "int_lots_related_bidders_signals", "int_tenders_traced_undated",
                         "int_tenders_assigned_to_departments", "int_entity_links_classified",
                         "int_tenders_linked_to_projects", "dim_inspection_objects_undated")
ADDED_BID = "BID-DELIVERED-ONCE"  # in the first delivery of an altered day only
ADDED_ON_EMPTY_DAY = "BID-ON-A-DAY-WITHOUT-BIDS"  # ditto, on a day whose real delivery has no bids


def ggzy(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([str(Path(sys.executable).with_name("ggzy")), *args], env=env, cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"ggzy {' '.join(args)} -> {proc.returncode}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return proc.stdout


def altered_delivery(landing: Path, into: Path) -> tuple[dt.date, dt.date]:
    """First deliveries of two trading-centre days that differ from the real ones: the day with
    the most bids gets one bid more (a key the real file lacks) and its first bid in a newer
    version (a year later, another price); a day without bids gets one. Returns both days."""
    from ggzy.feeds.manifest import write_manifest

    def bids(day: dt.date) -> list[dict]:
        with open(landing / "trading_centre" / day.isoformat() / "bids.csv", encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    busy = max(DAYS, key=lambda d: len(bids(d)))
    empty = next(d for d in DAYS if not bids(d))
    rows = bids(busy)
    assert rows, f"no bids delivered on {busy}"
    changed = dict(rows[0], bid_price="1.00", updated_at=rows[0]["updated_at"].replace("2026", "2027", 1))
    for day, new_rows in ((busy, [changed, *rows[1:], dict(rows[-1], bid_id=ADDED_BID)]),
                          (empty, [dict(rows[-1], bid_id=ADDED_ON_EMPTY_DAY)])):
        folder = into / "trading_centre" / day.isoformat()
        shutil.copytree(landing / "trading_centre" / day.isoformat(), folder)
        with open(folder / "bids.csv", "w", encoding="utf-8", newline="") as fh:
            out = csv.DictWriter(fh, fieldnames=list(rows[0]))
            out.writeheader()
            out.writerows(new_rows)
        (folder / "manifest.json").unlink()
        write_manifest(folder, "trading_centre", day)
    return busy, empty


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("incremental")
    env = os.environ | {"GGZY_HOME": str(root / "home")}
    ggzy(env, "generate", "--landing", str(root / "landing"), "--from", DAYS[0].isoformat(),
         "--to", DAYS[-1].isoformat(), "--scale", "0.05")
    busy, empty = altered_delivery(root / "landing", root / "altered")
    return {"root": root, "env": env, "landing": root / "landing", "altered": root / "altered", "altered_days": (busy, empty)}


def build(url: str, landing: dict, name: str, steps: list[tuple[str, dt.date | None]]) -> dict:
    """Run `steps` in the database at `url` (a new one): ('load', day), ('load all', None), ('load altered', day), ('staging', None)
    (incremental staging run), ('per lot', None) (the per-lot models and their parents, seeds
    included), ('build', None), ('full refresh', None), ('look', None) (count the bid only the
    altered delivery carries in staging). Returns its checksums, looks and how the last build
    ran each incremental per-lot model (dbt's message: INSERT for an increment, SELECT for a new table)."""
    import json

    import psycopg

    from ggzy.checksum import checksums

    env = landing["env"] | {"GGZY_WAREHOUSE_URL": url, "DBT_TARGET_PATH": str(landing["root"] / f"target-{name}"),
                            "DBT_LOG_PATH": str(landing["root"] / f"logs-{name}")}
    looks: list[int] = []
    for what, day in steps:
        if what == "load":
            ggzy(env, "load", "--landing", str(landing["landing"]), "--date", day.isoformat())
        elif what == "load all":
            ggzy(env, "load", "--landing", str(landing["landing"]), "--from", DAYS[0].isoformat(),
                 "--to", DAYS[-1].isoformat())
        elif what == "load altered":
            ggzy(env, "load", "--landing", str(landing["altered"]), "--feed", "trading_centre", "--date", day.isoformat())
        elif what == "staging":
            ggzy(env, "dbt", "run", "-s", "path:models/staging")
        elif what == "per lot":
            ggzy(env, "dbt", "build", "-s", "path:models/staging", "+int_lot_price_screens", "+int_lot_price_patterns",
                 "+int_expert_scores_judged", "+int_lots_summarised", "+int_signals_bid_collusion",
                 "+int_signals_related_bidders", "+int_lot_network_scores", "+int_tenders_linked_to_projects",
                 "+int_lots_split_purchase_signals", "+int_tenders_traced_undated", "+int_lots_employed_experts",
                 "+int_entity_links_classified", "+int_signals_screens",
                 "+int_expert_winner_pairs_counted", "+int_expert_bidder_pairs_counted", "+int_tender_report_dates",
                 "+fct_tender_risk_undated", "+dim_inspection_objects_undated", "--exclude-resource-type", "test",
                 "--exclude-resource-type", "unit_test")
        elif what in ("build", "full refresh"):  # seeds and models, as the night (its tests aside)
            ggzy(env, "dbt", "build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test",
                 *(["--full-refresh"] if what == "full refresh" else []))
        elif what == "look":
            with psycopg.connect(url) as conn:
                looks.append(conn.execute("select count(*) from staging.stg_trading_centre__bids where bid_id in (%s, %s)",
                                          (ADDED_BID, ADDED_ON_EMPTY_DAY)).fetchone()[0])
    sums = {t: v for t, v in checksums(url, schemas=(*SCHEMAS, "intermediate")).items()
            if not t.startswith("intermediate.")
            or t in PER_LOT_TABLES + PER_LOT_SIGNAL_TABLES + NETWORK_TABLES + SPARSE_PER_KEY_TABLES}
    results = json.loads((landing["root"] / f"target-{name}" / "run_results.json").read_text())["results"]
    messages = {r["unique_id"].rsplit(".", 1)[1]: r["message"] for r in results}
    compiled = {r["unique_id"].rsplit(".", 1)[1]: r.get("compiled_code") or "" for r in results}
    return {"url": url, "sums": sums, "looks": looks, "runs": {m: messages[m] for m in INCREMENTAL_PER_LOT_MODELS},
            "network_read_changes": "ops.model_changes" in compiled.get("int_lot_network_scores", ""),
            "pairs_read_changes": "ops.model_changes" in compiled.get("int_bidder_pairs_scored", ""),
            "staged_reads": {m: "where loaded_at >" in compiled.get(m, "") for m in STAGED_PER_LOT_MODELS}}


@pytest.fixture(scope="module")
def builds(warehouse_url, landing) -> dict:
    d, (busy, empty) = DAYS, landing["altered_days"]
    in_order = [*(("load", day) for day in d[:3]), ("staging", None), ("load", d[3]), ("per lot", None),
                *(("load", day) for day in d[4:6]), ("staging", None), ("load", d[6]), ("per lot", None),
                ("load", d[7]), ("build", None)]
    shuffled = [("load", d[0]), ("load altered", busy), ("load altered", empty), ("per lot", None), ("look", None)]
    # the other days newest first: every one but the newest is a back-fill, two are re-deliveries
    newest_first = list(reversed(d[1:]))
    shuffled += [("load", newest_first[0]), ("staging", None), *(("load", day) for day in newest_first[1:4]),
                 ("per lot", None), *(("load", day) for day in newest_first[4:]), ("staging", None)]
    shuffled += [("load", d[0]), ("staging", None), ("build", None), ("look", None)]  # the first day again
    full = [("load all", None), ("full refresh", None)]
    urls = {name: own_database(warehouse_url, f"ggzy_incremental_{name}") for name in "abc"}
    with ThreadPoolExecutor(3) as pool:  # three databases at once, each its own dbt target folder
        runs = {name: pool.submit(build, urls[name], landing, name, steps)
                for name, steps in (("a", in_order), ("b", shuffled), ("c", full))}
        return {name.upper(): run.result() for name, run in runs.items()}


def test_the_altered_delivery_was_seen_and_replaced(builds):
    """B's staging held the two bids only the first deliveries of the altered days carried (so
    the re-deliveries had something to undo), and after the re-deliveries holds them no longer."""
    assert builds["B"]["looks"] == [2, 0]


def test_incremental_runs_in_any_order_equal_a_full_refresh(builds):
    a, b, c = builds["A"]["sums"], builds["B"]["sums"], builds["C"]["sums"]
    staging = [t for t in c if t.startswith("staging.stg_")]
    assert len(staging) >= 14 and any(t.startswith("marts.") for t in c)
    assert sum(c[t][0] for t in staging if "bids" in t) > 0
    assert all(c[t][0] > 0 for t in PER_LOT_TABLES + NETWORK_TABLES[:2]), {t: c.get(t) for t in PER_LOT_TABLES + NETWORK_TABLES}
    for name, other in (("A (in order)", a), ("B (out of order, re-delivered)", b)):
        differ = sorted(t for t in set(c) | set(other) if c.get(t) != other.get(t))
        assert differ == [], f"{name} differs from the full refresh in {differ}"


def test_the_per_lot_models_ran_as_increments(builds):
    """A's and B's last build added to the per-lot tables (dbt reports an INSERT), it did
    not rebuild them; C's full refresh created them (SELECT)."""
    for name in ("A", "B"):
        assert all(m.startswith("INSERT") for m in builds[name]["runs"].values()), builds[name]["runs"]
    assert all(m.startswith("SELECT") for m in builds["C"]["runs"].values()), builds["C"]["runs"]


def test_a_night_fingerprints_only_the_lots_the_pairs_model_recomputed(builds):
    """int_lot_network_scores read, in A's and B's last build, the lots int_bidder_pairs_scored
    logged since its own last build (ops.model_changes), not every lot-pair row; equal tables
    all the same (above). A full refresh reads every row."""
    assert builds["A"]["network_read_changes"] and builds["B"]["network_read_changes"]
    assert not builds["C"]["network_read_changes"]


def test_a_night_judges_only_the_lots_whose_history_or_rows_changed(builds):
    """int_bidder_pairs_scored fingerprinted, in A's and B's last build, only the lots the change
    log names (the lots int_lot_bidders recomputed, the lots dated on a day whose history
    int_cobid_history_by_day recomputed, the month after a recalibrated month end), not every
    lot of the history; equal tables all the same (above), B's after back-filled days, which
    change the history of every day since. A full refresh judges every lot."""
    assert builds["A"]["pairs_read_changes"] and builds["B"]["pairs_read_changes"]
    assert not builds["C"]["pairs_read_changes"]


def test_a_night_fingerprints_only_the_lots_its_staging_rows_name(builds):
    """A's last build (a new day) fingerprinted, in the per-lot models reading staging, only the
    lots whose staging rows were stamped since their last build; B's last build came after the
    first day's re-delivery (what it dropped leaves no trace in staging) and compared every lot,
    as C's full refresh did. Equal tables all the same (above)."""
    assert all(builds["A"]["staged_reads"].values()), builds["A"]["staged_reads"]
    assert not any(builds["B"]["staged_reads"].values()), builds["B"]["staged_reads"]
    assert not any(builds["C"]["staged_reads"].values()), builds["C"]["staged_reads"]
