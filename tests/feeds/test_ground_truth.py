"""The loader against the demo generator: on a small generated landing zone the
quarantine equals the generator's ground truth (`_ground_truth/bad_rows.csv`)
exactly, every batch balances, and an unchanged re-run is skipped."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from ggzy.feeds.load import load_range

START, END = date(2025, 6, 2), date(2025, 6, 15)


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    generator = pytest.importorskip("ggzy.generator")
    root = tmp_path_factory.mktemp("gt-landing")
    generator.generate(root, START, END, scale=0.03, seed=7, bad_row_rate=0.02)
    return root


def truth(root) -> set[tuple]:
    with open(root / "_ground_truth" / "bad_rows.csv", newline="", encoding="utf-8") as fh:
        return {(r["feed"], date.fromisoformat(r["batch_date"]), r["file"], int(r["line"]), r["rule"])
                for r in csv.DictReader(fh) if START <= date.fromisoformat(r["batch_date"]) <= END}


def quarantine(conn) -> set[tuple]:
    return set(conn.execute("select feed, batch_date, file, line, rule from raw.quarantine "
                            "where batch_date between %s and %s", (START, END)).fetchall())


def test_quarantine_equals_generator_ground_truth(landing, conn, warehouse_url):
    results = load_range(landing, START, END, url=warehouse_url)
    assert results and all(res.status == "loaded" for res in results), [r.refusal for r in results]
    expected = truth(landing)
    assert len(expected) > 20  # the fixture really injects bad rows of several kinds
    assert len({t[4] for t in expected}) >= 5
    assert quarantine(conn) == expected
    assert sum(res.quarantined for res in results) == len(expected)
    unbalanced = conn.execute("select count(*) from raw.batches where batch_date between %s and %s and "
                              "rows_delivered <> rows_loaded + rows_quarantined", (START, END)).fetchone()[0]
    assert unbalanced == 0
    loaded = conn.execute("select sum(rows_loaded) from raw.batches where batch_date between %s and %s",
                          (START, END)).fetchone()[0]
    assert loaded == sum(res.loaded for res in results)


def test_unchanged_batches_are_skipped_and_reload_is_identical(landing, conn, warehouse_url):
    load_range(landing, START, END, url=warehouse_url)  # whatever ran before, the range is loaded now
    skipped = load_range(landing, START, END, url=warehouse_url, skip_unchanged=True)
    assert skipped and {res.status for res in skipped} == {"skipped"}
    # one file changed on disk (still matching its manifest's name, not its sha256): that batch is loaded again
    folder = landing / "tax" / END.isoformat()
    if not folder.is_dir():
        folder = next((landing / "tax").iterdir())
    day = date.fromisoformat(folder.name)
    path = folder / "taxpayers.csv"
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"\n")
        again = load_range(landing, day, day, feeds=["tax"], url=warehouse_url, skip_unchanged=True)
        assert [res.status for res in again] == ["refused"] and "sha256 mismatch" in again[0].refusal
    finally:
        path.write_bytes(original)
    before = quarantine(conn)
    reloaded = load_range(landing, START, END, url=warehouse_url, workers=1)
    assert {res.status for res in reloaded} == {"loaded"} and all(res.replaced for res in reloaded)
    assert quarantine(conn) == before == truth(landing)
