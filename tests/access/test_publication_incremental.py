"""Publication of what changed: a night writes only the files (table x month) whose content
changed since the last publication; the others keep their bytes, sha256 and mtime, and
the manifest says which night last changed each file.

Real loads and builds on the access warehouse: trading-centre batches loaded with the
loader, dbt run, then `publish` into an export root of this module's own. The module
leaves the warehouse as it found it (the other access tests expect the hand-made tender only).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import psycopg
import pytest

from .conftest import BATCH, WINNER, dbt_selection

OLD_BATCH = dt.date(2026, 2, 10)  # delivered three awards of earlier months, re-delivered later
NEW_BATCH = dt.date(2026, 2, 25)  # a later day with one award of February
NEXT_NIGHT = BATCH + dt.timedelta(days=1)
AWARDS = {"T2025-1101": "2025-11-14", "T2025-1201": "2025-12-12", "T2026-0101": "2026-01-16"}
MONTHS = ["2025-11", "2025-12", "2026-01", "2026-02"]


def _deliver(url: str, landing: Path, day: dt.date, awards: dict[str, tuple[str, str]]) -> None:
    """A trading-centre batch of `day`: tender_id -> (tender name, award date), awarded to a
    known company; the feed's other files header-only."""
    from feeds_helpers import finish, valid_row, write_csv

    from ggzy.feeds import contract as c
    from ggzy.feeds.load import load_batch

    stamp = f"{day}T08:00:00+08:00"
    tenders, won = [], []
    for i, (tender_id, (name, awarded_on)) in enumerate(sorted(awards.items()), start=1):
        tenders.append({**valid_row(c.feed_file("trading_centre", "tenders.csv"), i, day), "tender_id": tender_id,
                        "tender_name": name, "status": "awarded", "updated_at": stamp,
                        "announced_at": f"{awarded_on[:8]}01T09:00:00+08:00",
                        "bid_deadline": f"{awarded_on[:8]}05T09:30:00+08:00"})
        won.append({**valid_row(c.feed_file("trading_centre", "awards.csv"), i, day), "tender_id": tender_id,
                    "winner_id": WINNER, "awarded_at": f"{awarded_on}T10:00:00+08:00", "updated_at": stamp})
    batch = landing / "trading_centre" / day.isoformat()
    for ff in c.files_of("trading_centre"):
        write_csv(batch, ff, tenders if ff.stem == "tenders" else won if ff.stem == "awards" else [])
    finish(batch, "trading_centre", day)
    res = load_batch("trading_centre", day, landing, url)
    assert res.status == "loaded" and res.quarantined == 0, res


def _selected(args: list[str]) -> list[str]:
    start = args.index("--select") + 1
    return args[start:next((i for i, a in enumerate(args) if i > start and a.startswith("--")), len(args))]


def _build(url: str, as_of: dt.date, *, everything: bool = False) -> None:
    """What the nightly dbt run does for these tables, as of `as_of`: the tenders and awards,
    what they feed and the disclosure tables; `everything`: all the access warehouse is
    built of (a new as-of date reaches the disclosure tables through marts and the calendar)."""
    from ggzy.transform import run_dbt

    if everything:
        select = _selected(dbt_selection())
    else:
        tables = sorted((Path(__file__).resolve().parents[2] / "dbt_project/models/disclosure").glob("*.sql"))
        select = [*_selected(dbt_selection("stg_trading_centre__tenders", "stg_trading_centre__awards")),
                  *(f"path:models/disclosure/{p.name}" for p in tables)]
    args = ["run", "--select", *select, "--vars", json.dumps({"as_of_date": as_of.isoformat()})]
    if "--exclude" in dbt_selection():
        args += ["--exclude", "path:models/disclosure/sampling"]
    assert run_dbt(args, url=url, check=False) == 0


def _gate(url: str, day: dt.date) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("insert into ops.quality_gate (batch_date, passed, checked_at, details, run_id) "
                     "values (%s, true, clock_timestamp(), '{}', 'test-incremental')", (day,))


def _state(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """name -> (inode, mtime in ns, bytes) of every published data file of a folder."""
    return {str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.suffix in (".csv", ".xlsx")}


def _manifest(folder: Path) -> dict[str, dict]:
    return {f["name"]: f for f in json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["files"]}


def _written(folder: Path) -> set[str]:
    return {n for n, f in _manifest(folder).items() if not f["unchanged"]}


@pytest.fixture(scope="module")
def history(access_warehouse, tmp_path_factory):
    """(url, export root) with awards in four months, as of BATCH, published once."""
    from ggzy import disclosure

    url, _ = access_warehouse
    landing = tmp_path_factory.mktemp("landing")
    root = tmp_path_factory.mktemp("exports")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "feeds"))
    try:
        _deliver(url, landing, OLD_BATCH, {t: (f"{t} 道路改造工程", d) for t, d in AWARDS.items()})
        _build(url, BATCH)
        _gate(url, BATCH)
        first = disclosure.publish(BATCH, url=url, export_root=root)
        assert first.published and first.recorded, first.reason
        yield url, root, landing
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            for table in ("trading_centre__tenders", "trading_centre__awards"):
                conn.execute(f"delete from raw.{table} where _batch_date in (%s, %s)", (OLD_BATCH, NEW_BATCH))
            # as the loader records every change of raw: staging reads the days the ledger says
            # were loaded since its last run (macros/incremental_newest_version.sql)
            conn.execute("update raw.batches set loaded_at = now() where feed = 'trading_centre' "
                         "and batch_date in (%s, %s)", (OLD_BATCH, NEW_BATCH))
            conn.execute("delete from ops.quality_gate where run_id = 'test-incremental' and batch_date = %s",
                         (NEXT_NIGHT,))
        _build(url, BATCH, everything=True)
        sys.path.remove(str(Path(__file__).resolve().parents[1] / "feeds"))


def test_first_publication_writes_a_file_per_month(history):
    _, root, _ = history
    folder = root / BATCH.isoformat()
    names = set(_state(folder))
    assert {f"tender_results/{m}.csv" for m in MONTHS} <= names
    assert "responsibility_list.csv" in names  # a seed list: one file
    manifest = _manifest(folder)
    assert set(manifest) == names and _written(folder) == names
    assert {f["changed_on"] for f in manifest.values()} == {BATCH.isoformat()}
    assert manifest["tender_results/2025-12.csv"]["rows"] == 1


def test_a_rerun_with_nothing_changed_rewrites_nothing(history):
    from ggzy import disclosure

    url, root, _ = history
    folder = root / BATCH.isoformat()
    before, manifest = _state(folder), (folder / "manifest.json").read_bytes()
    again = disclosure.publish(BATCH, url=url, export_root=root)
    assert again.published and not again.recorded and "nothing changed" in again.reason
    assert _state(folder) == before and (folder / "manifest.json").read_bytes() == manifest


def test_a_new_award_rewrites_its_month_only(history):
    from ggzy import disclosure
    from ggzy.disclosure import sha256

    url, root, landing = history
    folder = root / BATCH.isoformat()
    before = _state(folder)
    _deliver(url, landing, NEW_BATCH, {"T2026-0202": ("盘龙区排水管网工程", "2026-02-20")})
    _build(url, BATCH)
    pub = disclosure.publish(BATCH, url=url, export_root=root)
    assert pub.published and pub.recorded, pub.reason
    after = _state(folder)
    assert _written(folder) == {"tender_results/2026-02.csv", "tender_results/2026-02.xlsx"}
    assert {n: s for n, s in after.items() if n not in _written(folder)} == {
        n: s for n, s in before.items() if n not in _written(folder)}  # same inode, mtime and bytes
    assert after["tender_results/2026-02.csv"][2] != before["tender_results/2026-02.csv"][2]
    assert "盘龙区排水管网工程" in after["tender_results/2026-02.csv"][2].decode("utf-8-sig")
    with psycopg.connect(url) as conn:
        logged = conn.execute("select files from ops.current_publications where batch_date = %s",
                              (BATCH,)).fetchone()[0]
    assert {f["name"]: f["sha256"] for f in logged} == {n: sha256(folder / n) for n in after}


def test_a_redelivered_earlier_batch_rewrites_the_old_month(history):
    from ggzy import disclosure

    url, root, landing = history
    folder = root / BATCH.isoformat()
    before = _state(folder)
    # the producer corrects December's tender name and re-delivers the batch of 10 February
    corrected = {t: (f"{t} 道路改造工程", d) for t, d in AWARDS.items()}
    corrected["T2025-1201"] = ("T2025-1201 道路改造工程（第二标段）", AWARDS["T2025-1201"])
    _deliver(url, landing, OLD_BATCH, corrected)
    _build(url, BATCH)
    pub = disclosure.publish(BATCH, url=url, export_root=root)
    assert pub.published and pub.recorded, pub.reason
    assert _written(folder) == {"tender_results/2025-12.csv", "tender_results/2025-12.xlsx"}
    after = _state(folder)
    assert {n: s for n, s in after.items() if not n.startswith("tender_results/2025-12")} == {
        n: s for n, s in before.items() if not n.startswith("tender_results/2025-12")}
    assert "第二标段" in after["tender_results/2025-12.csv"][2].decode("utf-8-sig")


def test_the_next_night_keeps_what_did_not_change(history):
    """A new date's folder is complete; files whose content is the same are the previous
    night's files (hard links: same inode, bytes and mtime), marked unchanged since then."""
    from ggzy import disclosure

    url, root, _ = history
    previous = root / BATCH.isoformat()
    before, old = _state(previous), _manifest(previous)
    _build(url, NEXT_NIGHT, everything=True)
    _gate(url, NEXT_NIGHT)
    pub = disclosure.publish(NEXT_NIGHT, url=url, export_root=root)
    assert pub.published and pub.recorded, pub.reason
    folder = root / NEXT_NIGHT.isoformat()
    now, after = _manifest(folder), _state(folder)
    assert (root / "latest").resolve() == folder.resolve()
    for name, entry in now.items():
        same = name in old and old[name]["digest"] == entry["digest"]
        assert entry["unchanged"] == same, name
        if same:
            assert after[name] == before[name] and entry["changed_on"] == old[name]["changed_on"], name
        else:
            assert entry["changed_on"] == NEXT_NIGHT.isoformat()
    # the awards are the same the next day: every month of tender_results is kept
    assert all(now[f"tender_results/{m}.csv"]["unchanged"] for m in MONTHS)
    assert now["tender_results/2025-12.csv"]["changed_on"] == BATCH.isoformat()
    assert _state(previous) == before  # the previous night's folder is untouched


def test_files_recorded_with_the_older_ordered_digests_are_kept(history):
    """Publications before the digests without a sort recorded the md5 of each partition's
    rows in export order: a publication based on one keeps its files all the same (the first
    night after the change does not rewrite the whole history)."""
    from ggzy import disclosure
    from ggzy.disclosure import changes, tables

    url, root, _ = history
    folder = root / NEXT_NIGHT.isoformat()
    before, manifest = _state(folder), (folder / "manifest.json").read_bytes()
    with psycopg.connect(url, autocommit=True) as conn:
        ordered = {}
        for spec in tables.table_specs(conn):
            for partition, (_, md5) in tables.partition_digests(conn, spec, ordered=True).items():
                for name in changes.Part(spec, partition, 0, "").names:
                    ordered[name] = f"{changes.layout_digest(spec)}:{md5}"
        (pid, files), = conn.execute("select publication_id, files from ops.publications where export_dir = %s "
                                     "and published order by published_at desc, publication_id desc limit 1",
                                     (str(folder),)).fetchall()
        assert set(ordered) == {f["name"] for f in files}
        assert all(ordered[f["name"]] != f["digest"] for f in files)  # another kind of digest
        conn.execute("update ops.publications set files = %s::jsonb where publication_id = %s",
                     (json.dumps([{**f, "digest": ordered[f["name"]]} for f in files], ensure_ascii=False), pid))
    again = disclosure.publish(NEXT_NIGHT, url=url, export_root=root)
    assert again.published and not again.recorded and "nothing changed" in again.reason
    assert _state(folder) == before and (folder / "manifest.json").read_bytes() == manifest


def test_force_rewrites_and_rescans_everything(history):
    from ggzy import disclosure

    url, root, _ = history
    folder = root / NEXT_NIGHT.isoformat()
    before = _state(folder)
    pub = disclosure.publish(NEXT_NIGHT, url=url, export_root=root, force=True)
    assert pub.published and "forced" in pub.reason
    after = _state(folder)
    assert set(after) == set(before) and _written(folder) == set(after)
    assert all(after[n][0] != before[n][0] for n in after)  # new files, not the old ones
    for name in after:  # the CSVs hold the same rows, so the same bytes
        if name.endswith(".csv"):
            assert after[name][2] == before[name][2], name
    assert not [p for p in root.iterdir() if p.name.startswith(".")]  # no temp folders left
