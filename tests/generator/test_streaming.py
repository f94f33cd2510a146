"""`ggzy generate` streams: it writes a batch day at a time from the simulated world
(tables.StreamedTables) instead of holding every table for the range (tables.InMemoryTables).
Both must give the same files byte for byte, and the streamed path must hold far less."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from pathlib import Path

from ggzy.generator import generate
from ggzy.generator.calendar import day_number
from ggzy.generator.tables import InMemoryTables, StreamedTables
from ggzy.generator.world import build_world, simulate_world
from ggzy.generator.writer import ground_truth_lists, write_batches, write_ground_truth_files

SEED, BAD_RATE = 11, 0.02


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_ggzy_generate_writes_what_the_in_memory_tables_give(tmp_path):
    start, end = dt.date(2026, 5, 4), dt.date(2026, 7, 2)
    streamed = tmp_path / "streamed"
    generate(streamed, start, end, scale=0.02, seed=SEED, bad_row_rate=BAD_RATE)

    in_memory = tmp_path / "in_memory"
    world, tables = build_world(day_number(start), day_number(end), 0.02, SEED, 1.0)
    stats = write_batches(in_memory, InMemoryTables(tables), day_number(start), day_number(end), SEED, BAD_RATE)
    write_ground_truth_files(in_memory, ground_truth_lists(world.truth, stats, world.near_misses, world.department_codes))

    got, want = files(streamed), files(in_memory)
    assert sorted(got) == sorted(want)
    assert [name for name in want if got[name] != want[name]] == []
    # not vacuous: every trading-centre file has rows on some day, and bad rows were injected
    for name in ("bids.csv", "evaluations.csv", "tenders.csv", "complaints.csv"):
        assert any(k.endswith(name) and v.count(b"\n") > 1 for k, v in want.items()), name
    assert stats.bad


def writing_peak(source_kind: str, folder: Path, start: int, end: int) -> tuple[int, int]:
    """(bytes allocated at the peak while the batches were made and written, rows written):
    allocations of the simulation before it are not counted, so this is what the rows cost."""
    world = simulate_world(start, end, 0.05, SEED, 1.0)
    tracemalloc.start()
    try:
        source = StreamedTables(world, folder) if source_kind == "streamed" else InMemoryTables(world.tables())
        stats = write_batches(folder, source, start, end, SEED, BAD_RATE)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    if source_kind == "streamed":
        source.close()
    return peak, sum(stats.rows.values())


def test_streamed_writing_holds_a_fraction_of_the_rows(tmp_path):
    """At scale 0.05 over 200 days (~35k rows) the in-memory tables cost ~180 bytes a row
    at their peak; the streamed path keeps ~30 bytes a row (where each row lies in the
    spill file) plus one day's rows."""
    start = day_number(dt.date(2026, 3, 2))
    end = start + 199
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    streamed, rows = writing_peak("streamed", tmp_path / "a", start, end)
    in_memory, same_rows = writing_peak("in_memory", tmp_path / "b", start, end)
    assert rows == same_rows > 20_000
    assert streamed < 0.5 * in_memory, (f"streamed {streamed / rows:.0f} B/row, "
                                        f"in memory {in_memory / rows:.0f} B/row over {rows} rows")


def test_generate_peak_is_about_100_bytes_a_row_simulation_included(tmp_path):
    """The whole of `ggzy generate` (the simulated world, the spill index, a day's rows), not
    only the writing: ~105 bytes a delivered row at scale 0.05 over 200 days (~31k rows), where
    bd45fa4 needed ~190 (the lots, people and milestones kept while writing, every bid version
    indexed, whole first-day files as text). Allocations traced after a first run, so that
    imports and the working-day calendar are not counted."""
    start = dt.date(2026, 3, 2)
    generate(tmp_path / "warm", start, start + dt.timedelta(days=1), scale=0.01, seed=SEED)
    tracemalloc.start()
    try:
        summary = generate(tmp_path / "landing", start, start + dt.timedelta(days=199), scale=0.05, seed=SEED,
                           bad_row_rate=BAD_RATE)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    rows = sum(summary.rows.values())
    assert rows > 25_000
    assert peak / rows < 150, f"{peak / rows:.0f} bytes a row at the peak over {rows} rows"
