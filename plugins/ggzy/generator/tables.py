"""The simulated world as contract files' rows, ready for the writer to cut into daily batches.

Two ways to hold them, giving the same rows in the same order (tests/generator checks it):

- `InMemoryTables`: every file's rows for the whole range as typed columns (`Table`), sorted
  per batch day by the writer. Simple, and what the tests read; memory grows with the range
  and the scale (5 GB for a scale-16 year).
- `StreamedTables`: the memory-bounded path `ggzy generate` takes. Bids and evaluation scores
  stay in the world's compact logs (typed arrays) and become rows one batch day at a time
  (a day's bids found from its lots); the other files' rows are spilled as they are made to
  an unnamed temporary file per file (marshal, one record a row) with only (batch day,
  version, length) kept in memory, and read back a day at a time. Once spilled, the world
  forgets the records they came from (World.forget_recorded), and the writer formats a
  day's file a chunk of rows at a time (`Batch`).

Within a batch day rows are ordered by (version time, creation order): the same order either way.
"""

from __future__ import annotations

import marshal
import tempfile
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from ggzy.feeds import contract as fc
from ggzy.generator.bidding import REJECTION_REASONS
from ggzy.generator.calendar import DAY
from ggzy.generator.evaluation import SCORE_COLUMNS, SITES
from ggzy.generator.model import NA

INT_KINDS = (fc.TIMESTAMP, fc.DATE, fc.MONEY, fc.INTEGER)
BIDS = fc.feed_file("trading_centre", "bids")
EVALUATIONS = fc.feed_file("trading_centre", "evaluations")


class Rows:
    """Column-wise accumulator for one contract file: values per row plus the batch day."""

    def __init__(self, file: fc.FeedFile) -> None:
        self.file = file
        self.cols: dict[str, list] = {c: [] for c in file.column_names}
        self.day: list[int] = []

    def add(self, ts: int, **values: object) -> None:
        """ts: when this version happened (local seconds); it decides the batch."""
        self.day.append(ts // DAY)
        for c, lst in self.cols.items():
            lst.append(values.get(c))


@dataclass
class Batch:
    """One file's rows of one batch day: how many, and a reader of rows [lo, hi) as typed
    columns, so that the writer can take a large day (the first, with every company's history)
    a chunk at a time."""

    count: int
    read: Callable[[int, int], dict[str, np.ndarray]]

    @classmethod
    def of(cls, columns: dict[str, np.ndarray]) -> Batch:
        return cls(len(next(iter(columns.values()))), lambda lo, hi: {c: a[lo:hi] for c, a in columns.items()})

    def chunks(self, size: int) -> Iterator[dict[str, np.ndarray]]:
        """The rows in chunks of at most `size` (one empty chunk when there are none)."""
        for lo in range(0, max(self.count, 1), size):
            yield self.read(lo, min(lo + size, self.count))


@dataclass
class Table:
    """One contract file's rows: typed columns + batch day per row."""

    file: fc.FeedFile
    cols: dict[str, np.ndarray]
    day: np.ndarray


def typed_column(kind: str, values: list) -> np.ndarray:
    """Python values (None = null) → the column's array: int64 with NA, float64 with NaN,
    int8 booleans with -1, objects for text."""
    if kind in INT_KINDS:
        return np.array([NA if v is None else v for v in values], dtype=np.int64)
    if kind == fc.NUMBER:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    if kind == fc.BOOL:
        return np.array([-1 if v is None else int(v) for v in values], dtype=np.int8)
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def to_table(rows: Rows, first_day: int) -> Table:
    cols = {c.name: typed_column(c.kind, rows.cols[c.name]) for c in rows.file.columns}
    day = np.maximum(np.array(rows.day, dtype=np.int64), first_day)  # history before the range: first batch
    return Table(rows.file, cols, day)


def batch_order(day: np.ndarray, version: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row positions sorted by (batch day, version, creation order), and their days."""
    order = np.lexsort((np.arange(len(day)), version, day))
    return order, day[order]


# ---------------------------------------------------------------------- bids
def bid_versions(world) -> tuple[np.ndarray, np.ndarray]:
    """Every bid version: (bid index, updated_at). Version 1 (opening) of every bid, then
    version 2 (validity decided on a later evaluation day) of the bids that have one."""
    log = world.bid_log
    lot = np.frombuffer(log.lot, dtype=np.int32)
    opened = np.frombuffer(log.opened_version, dtype=np.int64)[lot]
    validity = np.frombuffer(log.validity_version, dtype=np.int64)[lot]
    second = np.nonzero(validity >= 0)[0]
    return np.concatenate([np.arange(len(opened)), second]), np.concatenate([opened, validity[second]])


class BidRows:
    """Bid versions as contract rows, for any selection of versions; and a batch day's bid
    versions found from its lots' (all bids of a lot share their lot's version times)."""

    def __init__(self, world) -> None:
        self.world, log = world, world.bid_log
        self.log = log
        self.columns_of = {name: np.frombuffer(getattr(log, name), dtype=dtype) for name, dtype in (
            ("lot", np.int32), ("ent", np.int32), ("price", np.int64), ("submitted", np.int64),
            ("bond_paid", np.int64), ("valid", np.int8), ("reason", np.int8))}
        self.opened_of_lot = np.frombuffer(log.opened_version, dtype=np.int64)
        self.validity_of_lot = np.frombuffer(log.validity_version, dtype=np.int64)
        self.tender_ids = np.array([x.tender_id for x in world.lots], dtype=object)
        self.usccs = np.array([x.uscc for x in world.entities], dtype=object)
        self.first_bid = np.array([x.b0 for x in world.lots], dtype=np.int64)
        self.end_bid = np.array([x.b1 for x in world.lots], dtype=np.int64)
        self.reasons = np.array(REJECTION_REASONS, dtype=object)

    def lot_versions(self, first_day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lot, is version 2, batch day) of every lot's bid versions, in the order bid_versions'
        rows are sorted in: by batch day and updated_at, version 1 before 2, then bid index
        (a lot's bids are consecutive, so by the lot's first bid)."""
        first_lots = np.nonzero(self.opened_of_lot >= 0)[0]
        second_lots = np.nonzero(self.validity_of_lot >= 0)[0]
        lot = np.concatenate([first_lots, second_lots])
        second = np.arange(len(lot)) >= len(first_lots)
        updated = np.concatenate([self.opened_of_lot[first_lots], self.validity_of_lot[second_lots]])
        day = np.maximum(updated // DAY, first_day)
        order = np.lexsort((self.first_bid[lot], second, updated, day))
        return lot[order].astype(np.int32), second[order], day[order].astype(np.int32)

    def expand(self, lots: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The lots' bids in order, and whether each row is a version 2."""
        counts = self.end_bid[lots] - self.first_bid[lots]
        starts = np.repeat(self.first_bid[lots] - (np.cumsum(counts) - counts), counts)
        return np.arange(int(counts.sum()), dtype=np.int64) + starts, np.repeat(second, counts)

    def columns(self, bid: np.ndarray, second: np.ndarray) -> dict[str, np.ndarray]:
        """bid: bid indexes; second: whether the row is the bid's version 2 (validity decided)."""
        c, log, n = self.columns_of, self.log, len(bid)
        lot = c["lot"][bid]
        validity_version = self.validity_of_lot[lot]
        first_version = ~second & (validity_version >= 0)
        tender = self.tender_ids[lot]
        companies = [self.world.entities[e] for e in c["ent"][bid].tolist()]
        bids = bid.tolist()

        def objects(values: list) -> np.ndarray:
            out = np.empty(n, dtype=object)
            out[:] = values
            return out

        def trace(name: str) -> np.ndarray:
            return objects([log.trace(b, name, e) for b, e in zip(bids, companies, strict=True)])

        # bid ids: <tender_id>-B<nn> in order within the lot
        within = (bid - self.first_bid[lot]).tolist()
        return {"bid_id": objects([f"{t}-B{k + 1:03d}" for t, k in zip(tender.tolist(), within, strict=True)]),
                "tender_id": tender, "bidder_id": self.usccs[c["ent"][bid]], "bid_price": c["price"][bid],
                "submitted_at": c["submitted"][bid], "client_ip": trace("ip"), "client_mac": trace("mac"),
                "file_maker_code": trace("file_maker"), "ca_cert_serial": trace("ca_cert"),
                "bond_account": trace("bond_account"), "bond_paid_at": c["bond_paid"][bid],
                "project_manager_id_no": objects([log.project_manager[b] for b in bids]),
                # version 1 (opening): validity unknown yet where evaluation is on a later day
                "is_valid": np.where(first_version, -1, c["valid"][bid]).astype(np.int8),
                "rejection_reason": np.where(first_version, None, self.reasons[c["reason"][bid]]),
                "updated_at": np.where(second, validity_version, self.opened_of_lot[lot])}


def bid_table(world) -> Table:
    bid, updated = bid_versions(world)
    cols = BidRows(world).columns(bid, np.arange(len(bid)) >= len(world.bid_log))
    return Table(BIDS, cols, np.maximum(updated // DAY, world.s))


# ---------------------------------------------------------------------- evaluations
class EvaluationRows:
    """Evaluation scores as contract rows, for any list of the log's parts."""

    def __init__(self, world) -> None:
        self.log = world.evaluations
        self.tender_ids = np.array([x.tender_id for x in world.lots], dtype=object)
        self.usccs = np.array([x.uscc for x in world.entities], dtype=object)
        self.expert_ids = np.array([x.expert_id for x in world.experts], dtype=object)
        self.sites = np.array(SITES, dtype=object)

    def columns(self, parts: list[int]) -> dict[str, np.ndarray]:
        r = self.log.rows(parts)
        cols = {"tender_id": self.tender_ids[r["lot"]], "expert_id": self.expert_ids[r["expert"]],
                "bidder_id": self.usccs[r["bidder"]], "site": self.sites[r["site"]]}
        cols |= {c: r[c] for c in SCORE_COLUMNS}
        cols["evaluated_at"] = r["evaluated_at"]
        return cols


def evaluation_table(world) -> Table:
    cols = EvaluationRows(world).columns(list(range(len(world.evaluations))))
    return Table(EVALUATIONS, cols, np.maximum(cols["evaluated_at"] // DAY, world.s))


# ---------------------------------------------------------------------- the two sources
class InMemoryTables:
    """All rows of every contract file in memory; a batch is a slice of each sorted table."""

    def __init__(self, tables: dict[str, Table]) -> None:
        self.tables = tables
        self.order: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for f in fc.FILES:
            t = tables[f.table]
            version = t.cols[f.version_column] if f.version_column else np.zeros(len(t.day), dtype=np.int64)
            self.order[f.table] = batch_order(t.day, version)

    def columns(self, file: fc.FeedFile, day: int) -> dict[str, np.ndarray]:
        order, days = self.order[file.table]
        lo, hi = np.searchsorted(days, [day, day + 1])
        sel = order[lo:hi]
        return {c: arr[sel] for c, arr in self.tables[file.table].cols.items()}

    def batch(self, file: fc.FeedFile, day: int) -> Batch:
        return Batch.of(self.columns(file, day))


class SpilledRows:
    """A row sink like Rows that writes each row to its own unnamed temporary file and keeps
    only its batch day, version and length (16 bytes a row; rows lie one after the other)."""

    def __init__(self, file: fc.FeedFile, folder: Path) -> None:
        self.file, self.spill = file, tempfile.TemporaryFile(dir=folder)  # gone when closed or on exit
        self.day, self.length, self.version = array("i"), array("i"), array("q")

    def add(self, ts: int, **values: object) -> None:
        self.day.append(ts // DAY)
        version = values.get(self.file.version_column) if self.file.version_column else 0
        self.version.append(NA if version is None else version)
        record = marshal.dumps(tuple(values.get(c) for c in self.file.column_names))
        self.length.append(len(record))
        self.spill.write(record)

    def batches(self, first_day: int) -> SpilledBatches:
        """Where each row lies, in batch order (16 bytes a row)."""
        day = np.maximum(np.frombuffer(self.day, dtype=np.int32), first_day)
        order, days = batch_order(day, np.frombuffer(self.version, dtype=np.int64))
        length = np.frombuffer(self.length, dtype=np.int32)
        offset = np.cumsum(length, dtype=np.int64) - length
        self.spill.flush()
        return SpilledBatches(self.file, self.spill, offset[order], length[order], days.astype(np.int32))


@dataclass
class SpilledBatches:
    file: fc.FeedFile
    spill: IO[bytes]
    offset: np.ndarray  # of each row's record, in batch order
    length: np.ndarray
    days: np.ndarray

    def batch(self, day: int) -> Batch:
        lo, hi = (int(i) for i in np.searchsorted(self.days, [day, day + 1]))
        return Batch(hi - lo, lambda a, b: self.rows(lo + a, lo + b))

    def rows(self, lo: int, hi: int) -> dict[str, np.ndarray]:
        """Rows [lo, hi) in batch order, read back from the spill file."""
        rows = []
        for offset, length in zip(self.offset[lo:hi].tolist(), self.length[lo:hi].tolist(), strict=True):
            self.spill.seek(offset)
            rows.append(marshal.loads(self.spill.read(length)))
        return {c.name: typed_column(c.kind, [r[i] for r in rows]) for i, c in enumerate(self.file.columns)}


class StreamedTables:
    """Rows made a batch day at a time from the world's compact logs and the spill file."""

    def __init__(self, world, folder: Path) -> None:
        self.world = world
        sinks = {f.name: SpilledRows(f, folder) for f in fc.FILES if f not in (BIDS, EVALUATIONS)}
        world.feed_rows(sinks)
        self.bids = BidRows(world)
        self.evaluations = EvaluationRows(world)
        world.forget_recorded()  # the lots, projects, people ... are in the spill file now
        self.spilled: dict[str, SpilledBatches] = {}
        while sinks:
            sink = sinks.pop(next(iter(sinks)))
            self.spilled[sink.file.table] = sink.batches(world.s)
        self.bid_lots, self.bid_second, self.bid_days = self.bids.lot_versions(world.s)  # 9 bytes a lot version

    def batch(self, file: fc.FeedFile, day: int) -> Batch:
        if file in (BIDS, EVALUATIONS):
            return Batch.of(self.columns(file, day))
        return self.spilled[file.table].batch(day)

    def columns(self, file: fc.FeedFile, day: int) -> dict[str, np.ndarray]:
        if file == BIDS:
            lo, hi = np.searchsorted(self.bid_days, [day, day + 1])
            return self.bids.columns(*self.bids.expand(self.bid_lots[lo:hi], self.bid_second[lo:hi]))
        if file == EVALUATIONS:
            return self.evaluation_columns(day)
        batch = self.spilled[file.table].batch(day)
        return batch.read(0, batch.count)

    def evaluation_columns(self, day: int) -> dict[str, np.ndarray]:
        log, first = self.world.evaluations, self.world.s
        days = [d for d in log.parts_by_day if d <= first] if day == first else [day]
        parts = sorted({p for d in days for p in log.parts_by_day.get(d, [])})
        cols = self.evaluations.columns(parts)
        at = cols["evaluated_at"]
        keep = np.nonzero(np.maximum(at // DAY, first) == day)[0]
        keep = keep[np.lexsort((keep, at[keep]))]
        return {c: arr[keep] for c, arr in cols.items()}

    def close(self) -> None:
        for spilled in self.spilled.values():
            spilled.spill.close()
