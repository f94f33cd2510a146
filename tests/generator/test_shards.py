"""Scale above 1 is made of shards (generator/shards.py): worlds of at most scale 1 simulated
one after another, sharing the province but no identifier, whose rows are appended to the same
batch files. Checked here: no identifier of one shard is another's, and `ggzy generate`'s peak
memory stays that of one shard however many there are. (Every landing-zone check of the other
tests runs on a two-shard landing zone too: conftest.landing.)"""

from __future__ import annotations

import datetime as dt
import tracemalloc
from itertools import combinations

from ggzy.feeds.rules import py_id_no_ok, py_uscc_ok
from ggzy.generator import generate
from ggzy.generator.calendar import day_number
from ggzy.generator.shards import shard_count, shard_seed
from ggzy.generator.world import simulate_world

SEED = 11


def identifiers(world) -> dict[str, set[str]]:
    """Every kind of identifier a world gives out, and the names of its companies."""
    companies = world.entities
    return {
        "uscc": {e.uscc for e in companies},
        "company name": {e.name for e in companies},
        "resident id": set(world.persons.id_nos),
        "phone": {e.phone for e in companies},
        "mac": {e.mac for e in companies if e.mac},
        "ip": {ip for e in companies for ip in e.ips},
        "ca cert": {e.ca for e in companies if e.ca},
        "file maker": {e.fm for e in companies if e.fm},
        "bond account": {e.bond for e in companies if e.bond},
        "expert": {x.expert_id for x in world.experts},
        "tender": {lot.tender_id for lot in world.lots},
        "project code": {p.code for p in world.projects},
        "complaint": {c["id"] for c in world.complaints},
        "case": {c["id"] for c in world.cases},
        "credit record": {r["id"] for r in world.credit},
    }


def test_shards_share_no_identifier_and_their_ids_stay_valid():
    start = day_number(dt.date(2026, 3, 2))
    shards = 3
    worlds = [identifiers(simulate_world(start, start + 119, 0.05, shard_seed(SEED, j, shards), 1.0, j, shards))
              for j in range(shards)]
    for kind in worlds[0]:
        sizes = [len(w[kind]) for w in worlds]
        assert sum(1 for n in sizes if n) >= 2, (kind, sizes)  # not vacuous: shards give out some of each
        for a, b in combinations(range(shards), 2):
            assert not worlds[a][kind] & worlds[b][kind], f"shards {a} and {b} share a {kind}"
    for w in worlds:  # the loader's own check-digit rules
        assert all(py_uscc_ok(u) for u in w["uscc"])
        assert all(py_id_no_ok(i) for i in w["resident id"])


def test_scale_above_one_is_made_of_shards_of_at_most_one():
    assert [shard_count(s) for s in (0.05, 1, 1.2, 2, 16, 31.5)] == [1, 1, 2, 2, 16, 32]
    assert shard_seed(SEED, 0, 1) == SEED  # one shard: the unsharded world, byte for byte
    assert len({shard_seed(SEED, j, 4) for j in range(4)}) == 4


def peak(tmp_path, name: str, scale: float, shards: int) -> tuple[int, int]:
    """(bytes allocated at the peak of `generate`, rows written) over 120 days."""
    start = dt.date(2026, 3, 2)
    tracemalloc.start()
    try:
        summary = generate(tmp_path / name, start, start + dt.timedelta(days=119), scale=scale, seed=SEED,
                           shards=shards)
        top = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return top, sum(summary.rows.values())


def test_peak_memory_is_one_shards_whatever_their_number(tmp_path):
    """Three shards of 0.04 write three times the rows of one world of 0.04 at about the same
    peak (one shard's world, then the next's): above one world of 0.04, by far less than what
    one world of 0.12 needs above it (at this scale fixed costs, the calendar and the day's
    buffers, are half the peak)."""
    generate(tmp_path / "warm", dt.date(2026, 3, 2), dt.date(2026, 3, 3), scale=0.01, seed=SEED)
    one, rows_one = peak(tmp_path, "one", 0.04, 1)
    three, rows_three = peak(tmp_path, "three", 0.12, 3)
    whole, rows_whole = peak(tmp_path, "whole", 0.12, 1)
    assert rows_three > 2.5 * rows_one and rows_whole > 2.5 * rows_one
    mb = f"peak of one world of 0.04 {one / 1e6:.1f} MB, 3 shards {three / 1e6:.1f}, one world of 0.12 {whole / 1e6:.1f}"
    assert three < 1.25 * one, mb
    assert three - one < 0.35 * (whole - one), mb
