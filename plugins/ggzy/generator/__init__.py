"""Deterministic demo landing-zone generator with ground truth (issue 3).

`generate(landing, start, end)` simulates a coherent Yunnan public-resource-trading
world for the date range (world.py), writes one delta batch per feed and calendar day in
the contract's formats with manifests (writer.py), injects bad rows at `bad_row_rate`
and the risk-rule anomalies defined in anomalies.py, and writes what it injected to
`<landing>/_ground_truth/`:

- `anomalies.csv` — `rule_id,subject_type,subject_id,detail`, as of the last day;
- `near_misses.csv` — same columns: subjects made to look like an anomaly of `rule_id`
  without being one (a status that changed after the act, ...); a correct rule stays quiet;
- `department_codes.csv` — `item_type,item_id,code_role,delivered_code,department_code`: the
  department codes of complaints and cases as delivered (530100-HOUSING, 530100-ZJJ or ZJJ)
  and the department each stands for;
- `bad_rows.csv` — `feed,batch_date,file,line,rule` for every injected bad row;
- `messy_values.csv` — `feed,batch_date,file,line,column,value,normalised,detail`: project
  codes typed with spaces / full-width characters that are *not* bad rows (they normalise);
  detail `project_code_messy`.

Same inputs → byte-identical files: the world is drawn from seeded numpy streams, and
`produced_at` is derived from the batch date.

Scale above 1 is generated as ceil(scale) shards, worlds of at most scale 1 with no shared
identifier, one after another into the same files (shards.py), so that memory stays that of
one shard; scale 1 and below is one world, as before.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ggzy.generator.calendar import day_number
from ggzy.generator.writer import (
    GROUND_TRUTH,
    GROUND_TRUTH_HEADERS,
    Delivered,
    ground_truth_lists,
    write_batches,
    write_ground_truth_files,
)

__all__ = ["GROUND_TRUTH", "Summary", "generate"]


@dataclass
class Summary:
    landing: Path
    start: dt.date
    end: dt.date
    scale: float
    seed: int
    shards: int = 1
    batches: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # per raw table, bad rows included
    bad_rows: dict[str, int] = field(default_factory=dict)  # per rule
    anomalies: dict[str, int] = field(default_factory=dict)  # per rule id
    messy_values: int = 0
    seconds_world: float = 0.0
    seconds_write: float = 0.0

    def lines(self) -> list[str]:
        shards = f" in {self.shards} shards of scale {self.scale / self.shards:g}" if self.shards > 1 else ""
        out = [f"landing {self.landing}: {self.start} .. {self.end}, scale {self.scale}{shards}, seed {self.seed}",
               f"{self.batches} batches in {self.seconds_world + self.seconds_write:.1f}s "
               f"(world {self.seconds_world:.1f}s, writing {self.seconds_write:.1f}s)"]
        out += [f"  {t:<34} {n:>10,}" for t, n in self.rows.items()]
        out.append(f"bad rows: {sum(self.bad_rows.values()):,} "
                   + ", ".join(f"{r}={n}" for r, n in sorted(self.bad_rows.items())))
        out.append(f"messy project codes (normalise, not bad): {self.messy_values:,}")
        out.append(f"anomalies: {sum(self.anomalies.values()):,} over {len(self.anomalies)} rules")
        out += [f"  {r:<30} {n:>6}" for r, n in sorted(self.anomalies.items())]
        return out


def generate(landing: Path, start: dt.date, end: dt.date, scale: float = 0.05, seed: int = 20261123,
             bad_row_rate: float = 0.01, anomaly_rate: float = 1.0, *, progress: bool = False,
             shards: int | None = None) -> Summary:
    """Write `<landing>/<feed>/<YYYY-MM-DD>/` for every feed and day in [start, end], plus ground truth.
    Scale above 1 is generated in shards (shards.py); `shards` forces their number (tests)."""
    from ggzy.generator.shards import SortedSpill, shard_count, shard_seed
    from ggzy.generator.tables import StreamedTables
    from ggzy.generator.world import simulate_world

    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if scale <= 0:
        raise ValueError("scale must be positive")
    k = shards or shard_count(scale)
    landing = Path(landing)
    landing.mkdir(parents=True, exist_ok=True)
    summary = Summary(landing=landing, start=start, end=end, scale=scale, seed=seed, shards=k)
    rows: Counter = Counter()
    bad: Counter = Counter()
    anomalies: Counter = Counter()
    delivered: Delivered = {}
    truth = SortedSpill(landing)
    try:
        for j in range(k):
            shard_seed_j = shard_seed(seed, j, k)
            t0 = time.perf_counter()
            world = simulate_world(day_number(start), day_number(end), scale / k, shard_seed_j, anomaly_rate, j, k)
            t1 = time.perf_counter()
            source = StreamedTables(world, landing)
            try:
                stats = write_batches(landing, source, day_number(start), day_number(end), shard_seed_j, bad_row_rate,
                                      progress, delivered, manifests=j == k - 1,
                                      desc="batches" if k == 1 else f"shard {j + 1}/{k}")
            finally:
                source.close()
            truth.add(ground_truth_lists(world.truth, stats, world.near_misses, world.department_codes))
            rows.update(stats.rows)
            bad.update(b[4] for b in stats.bad)
            anomalies.update(a[0] for a in world.truth)
            summary.batches += stats.batches
            summary.messy_values += len(stats.messy)
            del world, source, stats  # before the next shard's world is made (its cycles too)
            gc.collect()
            summary.seconds_world += t1 - t0
            summary.seconds_write += time.perf_counter() - t1
        t1 = time.perf_counter()
        write_ground_truth_files(landing, {name: truth.merged(name, distinct=name == "department_codes.csv")
                                           for name in GROUND_TRUTH_HEADERS})
        summary.seconds_write += time.perf_counter() - t1
    finally:
        truth.close()
    summary.rows, summary.bad_rows, summary.anomalies = dict(rows), dict(bad), dict(anomalies)
    return summary
