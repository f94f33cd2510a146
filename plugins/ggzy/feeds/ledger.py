"""The batch ledger: what the loader tells about every batch it considered.

- raw.batches: one row per (feed, batch_date), the delivery currently in raw
  (status loaded), or why it is not (status refused: refusal; a batch dated
  after the loading horizon is recorded as refused with a refusal starting
  "held:" and its event is `held`).
- raw.batch_files: per-file counts of the current delivery.
- raw.batch_events: every attempt, never updated (loaded, reloaded, refused, held).
- ops.landing_problems: entries of the landing zone that are not batches (a
  folder named 2026-02-30 or "latest"), first and last seen.
Balances: delivered = loaded + quarantined, per file and per batch (CHECK constraints).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import psycopg

from ggzy.feeds.files import LandingProblem
from ggzy.feeds.manifest import BatchHeld, BatchRefused, Manifest


@dataclass
class FileResult:
    """What happened to one contract file of a batch."""

    name: str
    rows_manifest: int | None = None
    delivered: int = 0
    loaded: int = 0
    quarantined_by_rule: dict[str, int] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)
    blank_lines: int = 0
    bytes: int = 0
    sha256: str | None = None
    absent: bool = False  # neither listed nor present: nothing delivered for this file today
    seconds: dict[str, float] = field(default_factory=dict)  # per phase (copy, validate, ...), for the benchmark

    @property
    def quarantined(self) -> int:
        return sum(self.quarantined_by_rule.values())


@dataclass
class BatchResult:
    feed: str
    batch_date: date
    status: str  # loaded | refused | held (dated after the horizon) | skipped (unchanged since its last load)
    files: list[FileResult] = field(default_factory=list)
    refusal: str | None = None
    replaced: bool = False  # an earlier delivery of this date was replaced
    seconds: float = 0.0

    @property
    def delivered(self) -> int:
        return sum(f.delivered for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def quarantined_by_rule(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.quarantined_by_rule)
        return dict(total)

    @property
    def extra_columns(self) -> dict[str, list[str]]:
        return {f.name: f.extra_columns for f in self.files if f.extra_columns}


# ---------------------------------------------------------------------------
# Client side: stream a file to COPY.

_LEDGER_BATCH = """
    insert into raw.batches as b (feed, batch_date, status, produced_at, manifest, rows_delivered, rows_loaded,
                                  rows_quarantined, refusal, deliveries, loaded_at, duration)
    values (%s, %s, 'loaded', %s, %s::jsonb, %s, %s, %s, null, 1, now(), %s)
    on conflict (feed, batch_date) do update set
        status = 'loaded', produced_at = excluded.produced_at, manifest = excluded.manifest,
        rows_delivered = excluded.rows_delivered, rows_loaded = excluded.rows_loaded,
        rows_quarantined = excluded.rows_quarantined, refusal = null,
        deliveries = b.deliveries + 1, loaded_at = excluded.loaded_at, duration = excluded.duration"""
_LEDGER_FILE = """
    insert into raw.batch_files (feed, batch_date, file, rows_manifest, rows_delivered, rows_loaded,
                                 rows_quarantined, quarantined_by_rule, extra_columns, blank_lines, bytes, sha256)
    values (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::text[], %s, %s, %s)"""
_LEDGER_EVENT = """
    insert into raw.batch_events (feed, batch_date, event, message, rows_delivered, rows_loaded,
                                  rows_quarantined, duration, manifest)
    values (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)"""


def record_load(conn: psycopg.Connection, res: BatchResult, manifest: Manifest) -> None:
    """The ledger and COMMIT in one round trip (a pipeline of prepared statements)."""
    duration = timedelta(seconds=res.seconds)
    raw_manifest = json.dumps(manifest.raw, ensure_ascii=False)
    key = (res.feed, res.batch_date)
    with conn.pipeline(), conn.cursor() as cur:
        cur.execute(_LEDGER_BATCH, (*key, manifest.produced_at, raw_manifest, res.delivered, res.loaded,
                                    res.quarantined, duration), prepare=True)
        cur.execute("delete from raw.batch_files where feed = %s and batch_date = %s", key, prepare=True)
        for f in res.files:
            if not f.absent:
                cur.execute(_LEDGER_FILE, (*key, f.name, f.rows_manifest, f.delivered, f.loaded, f.quarantined,
                                           json.dumps(f.quarantined_by_rule), f.extra_columns, f.blank_lines,
                                           f.bytes, f.sha256), prepare=True)
        cur.execute(_LEDGER_EVENT, (*key, "reloaded" if res.replaced else "loaded",
                                    f"quarantined by rule: {res.quarantined_by_rule}" if res.quarantined else None,
                                    res.delivered, res.loaded, res.quarantined, duration, raw_manifest), prepare=True)
        cur.execute("commit")


def record_refusal(conn: psycopg.Connection, e: BatchRefused, manifest: Manifest | None, seconds: float) -> None:
    """Refusals are written in their own transaction: the load itself rolled back."""
    rollback(conn)
    raw_manifest = json.dumps(manifest.raw, ensure_ascii=False) if manifest else None
    with conn.transaction():
        conn.execute(
            """insert into raw.batches as b (feed, batch_date, status, produced_at, manifest, refusal,
                                        last_refusal, last_refused_at, deliveries, loaded_at)
               values (%s, %s, 'refused', %s, %s::jsonb, %s, %s, now(), 0, now())
               on conflict (feed, batch_date) do update set
                   last_refusal = excluded.last_refusal, last_refused_at = excluded.last_refused_at,
                   refusal = case when b.status = 'refused' then excluded.refusal else b.refusal end,
                   manifest = case when b.status = 'refused' then excluded.manifest else b.manifest end""",
            (e.feed, e.batch_date, manifest.produced_at if manifest else None, raw_manifest, str(e), str(e)))
        conn.execute(
            """insert into raw.batch_events (feed, batch_date, event, file, message, duration, manifest)
               values (%s, %s, %s, %s, %s, %s, %s::jsonb)""",
            (e.feed, e.batch_date, "held" if isinstance(e, BatchHeld) else "refused", e.file, str(e),
             timedelta(seconds=seconds), raw_manifest))


def rollback(conn: psycopg.Connection) -> None:
    if not conn.closed and conn.info.transaction_status in (psycopg.pq.TransactionStatus.INTRANS,
                                                            psycopg.pq.TransactionStatus.INERROR):
        conn.execute("rollback")


def record_landing_problems(conn: psycopg.Connection, problems: list[LandingProblem]) -> None:
    """Entries of the landing zone that are not batches, into ops.landing_problems
    (first and last seen; the problem text of the newest run)."""
    if not problems:
        return
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            """insert into ops.landing_problems as p (feed, folder, problem) values (%s, %s, %s)
               on conflict (feed, folder) do update set problem = excluded.problem, last_seen = now()""",
            [(p.feed, p.folder, p.problem) for p in problems])


