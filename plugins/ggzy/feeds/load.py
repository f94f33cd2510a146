"""Load landing batches into raw: files checked, manifest, COPY, set-based
validation, quarantine and the batch ledger, in ONE transaction per batch.

One rule for the whole loader (issue 16): a fault is either a refused batch with
a clear reason (feed, date, file, what, what to do) or a quarantined row (file,
physical line, rule). Never an unhandled exception, never a stopped range: a
date-range load goes on past a refused batch and reports every refusal at the end.

The parts, each read on its own:
- files.py: the landing zone (no links followed, regular files only, sha256
  checked before any content is read, folders that are not dates reported);
- manifest.py: the manifest and BatchRefused;
- stream.py: client side, bytes to COPY; the row rules checked on bytes
  (field count, encoding, NUL, line/field length, JSON nesting), with the limits;
- server.py: COPY into the month partition, set-based validation, duplicates;
- ledger.py: raw.batches / batch_files / batch_events, ops.landing_problems;
- raw.py: the raw tables and their month partitions.

Why this shape (measured with `ggzy bench load`, see docs/benchmarks.md):
fixed costs dominate small daily files, so each step is paid once per batch or
once per non-empty file, never per row or per empty file: one connection per
worker for the whole run; one round trip opens the batch (lock, the earlier
delivery's quarantine and rows, prior state); the ledger and COMMIT are one
more. No DDL per file: month partitions are created once, before the batch, in
their own transaction. `load_range` loads up to two batches at once (one
connection each), taken in date order from one queue.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from ggzy import config, db
from ggzy.feeds import contract as c
from ggzy.feeds.files import BatchFolder, LandingProblem, landing_problems
from ggzy.feeds.ledger import BatchResult, FileResult, record_landing_problems, record_load, record_refusal, rollback
from ggzy.feeds.manifest import BatchHeld, BatchRefused, Manifest, read_manifest
from ggzy.feeds.raw import DAY_SETTING, extended_storage, merge_daily_partitions, partition_ddl, partition_name
from ggzy.feeds.server import DOC_PREFIX, Batch, FileLoader, _q, _results
from ggzy.feeds.stream import Limits

__all__ = ["BatchHeld", "BatchRefused", "BatchResult", "FileResult", "LandingProblem", "batch_dates",
           "horizon", "landing_problems", "load_batch", "load_range"]


def _lock_key(feed: str, batch_date: date) -> str:
    return f"ggzy.load:{feed}:{batch_date.isoformat()}"


def _session(url: str | None) -> psycopg.Connection:
    """A loader connection: JIT and parallel query off (they cost more than they
    save on validation statements), generic plans for the prepared validation
    statements (planning, not rows, is what a small daily file costs), a temp
    table for JSONL lines."""
    conn = db.connect(url, autocommit=True)  # transactions are explicit: BEGIN and COMMIT ride along
    conn.execute("set jit = off; set max_parallel_workers_per_gather = 0; set plan_cache_mode = force_generic_plan; "
                 "set enable_sort = off; " + "; ".join(
                     f"create temp table if not exists {_q(DOC_PREFIX + ff.table)} (_line integer, doc text) "
                     "on commit delete rows" for ff in c.FILES if ff.fmt == c.JSONL))
    return conn


_PARTITIONS: weakref.WeakKeyDictionary[psycopg.Connection, set[str]] = weakref.WeakKeyDictionary()


def _ensure_partitions(conn: psycopg.Connection, feed: str, day: date) -> None:
    """The month partitions of the feed's files for `day`, created once (in their
    own short transaction, before the batch's), remembered per connection."""
    known = _PARTITIONS.setdefault(conn, set())
    need = [ff for ff in c.files_of(feed) if partition_name(ff, day) not in known]
    if not need:
        return
    for attempt in range(3):
        try:
            with conn.transaction():
                for ff in need:
                    extended_storage(conn, ff)  # a warehouse bootstrapped by an older version
                    conn.execute(partition_ddl(ff, day))
            break
        except psycopg.errors.InvalidObjectDefinition:  # overlaps a day partition of the older layout
            for ff in need:
                merge_daily_partitions(conn, ff)
        except (psycopg.errors.DuplicateTable, psycopg.errors.UniqueViolation,  # created concurrently
                psycopg.errors.DeadlockDetected):
            if attempt == 2:
                raise
    known.update(partition_name(ff, day) for ff in need)



def horizon() -> date:
    """The last batch date loaded now: today in Asia/Shanghai plus GGZY_LOAD_AHEAD_DAYS
    (default 1: a producer in another time zone may date tomorrow's batch early)."""
    return datetime.now(ZoneInfo(config.TIMEZONE)).date() + timedelta(days=config.load_ahead_days())


def _unchanged(conn: psycopg.Connection, manifest: Manifest) -> bool:
    """The batch's manifest equals the one loaded (its files' sha256 were checked
    against it when they were opened)."""
    row = conn.execute("select status, manifest from raw.batches where feed = %s and batch_date = %s",
                       (manifest.feed, manifest.batch_date)).fetchone()
    return bool(row) and row[0] == "loaded" and row[1] == manifest.raw


def load_batch(feed: str, batch_date: date, landing: Path | str, url: str | None = None, *,
               conn: psycopg.Connection | None = None, skip_unchanged: bool = False) -> BatchResult:
    """Load one batch `<landing>/<feed>/<YYYY-MM-DD>/` in one transaction.

    Returns the BatchResult of a loaded batch (status 'skipped' when
    skip_unchanged and the batch is byte-for-byte the one already loaded).
    Raises BatchRefused (after recording the refusal in raw.batches /
    raw.batch_events) for any fault of the batch, BatchHeld (a BatchRefused)
    for a batch dated after `horizon()`; raw is then unchanged. An unexpected
    error is recorded and raised as a BatchRefused too, naming the batch.
    `conn`: reuse a connection (load_range does); it must not be inside a
    transaction.
    """
    if feed not in c.FEEDS:
        raise ValueError(f"unknown feed {feed!r}; feeds are {', '.join(c.FEEDS)}")
    if conn is None:
        with _session(url) as own:
            return load_batch(feed, batch_date, landing, conn=own, skip_unchanged=skip_unchanged)
    t0 = time.monotonic()
    manifest: Manifest | None = None
    try:
        try:
            last = horizon()
            if batch_date > last:
                raise BatchHeld(feed, batch_date, None, f"held: the batch is dated after {last.isoformat()} "
                                f"(tomorrow in {config.TIMEZONE}); not loaded",
                                "if the date is right, load it again once the date has come; if not, ask the "
                                "producer to re-deliver it under its real date")
            with BatchFolder(landing, feed, batch_date) as folder, ExitStack() as files:
                manifest = read_manifest(folder, feed, batch_date)
                # every file verified (regular, one link, sha256) before any content is parsed
                handles = {mf.name: files.enter_context(folder.open_file(mf.name, mf.sha256))
                           for mf in manifest.files}
                if skip_unchanged and _unchanged(conn, manifest):
                    return BatchResult(feed, batch_date, "skipped", seconds=time.monotonic() - t0)
                _ensure_partitions(conn, feed, batch_date)
                res = _load(conn, feed, batch_date, handles, manifest)  # sends BEGIN with its first statement
                res.seconds = time.monotonic() - t0
                record_load(conn, res, manifest)  # ends with COMMIT
                return res
        except BatchRefused:
            raise
        except (psycopg.OperationalError, psycopg.InterfaceError):
            raise  # the warehouse is gone: not a fault of the batch (load_range reports it per batch)
        except Exception as e:  # a loader bug must not pass for a crash of the run: the batch is refused
            raise BatchRefused(feed, batch_date, None, f"unexpected loader error {type(e).__name__}: "
                               f"{str(e)[:200]}", "report it to the data team with this message") from e
    except BatchRefused as e:
        rollback(conn)
        record_refusal(conn, e, manifest, time.monotonic() - t0)
        raise
    except BaseException:
        rollback(conn)
        raise


def _load(conn: psycopg.Connection, feed: str, day: date, handles: dict, manifest: Manifest) -> BatchResult:
    files_of = c.files_of(feed)
    # One round trip opens the batch: lock, prior state. Only a day delivered
    # before costs a second one: its quarantine and raw rows go (a first load
    # deletes nothing).
    with conn.cursor() as cur:
        parts = [partition_name(ff, day) for ff in files_of]
        cur.execute(sql.SQL(
            "begin; select pg_advisory_xact_lock(hashtextextended({lock}, 0)), set_config({setting}, {day}, true); "
            "select (select status from raw.batches where feed = {feed} and batch_date = {day}), "
            "array[{sizes}]").format(
                lock=_lock_key(feed, day), setting=DAY_SETTING, feed=feed, day=day.isoformat(),
                sizes=sql.SQL(", ").join(
                    sql.SQL("pg_relation_size({}::regclass) / current_setting('block_size')::int").format(
                        f"raw.{_q(p)}") for p in parts)).as_string(conn).encode())
        prior, sizes = _results(cur)[-1][0]
        if prior is not None:
            cur.execute(sql.SQL("delete from raw.quarantine where feed = {feed} and batch_date = {day}; {deletes}").format(
                feed=feed, day=day, deletes=sql.SQL("; ").join(
                    sql.SQL("delete from raw.{} where _batch_date = {}").format(sql.Identifier(ff.table), sql.Literal(day))
                    for ff in files_of)).as_string(conn).encode())
    batch = Batch(conn, feed, day, dict(zip(parts, sizes, strict=True)))
    limits = Limits.from_settings()
    files: list[FileResult] = []
    for ff in files_of:
        mf = manifest.file(ff.name)
        if mf is None:
            files.append(FileResult(ff.name, absent=True))
            continue
        files.append(FileLoader(batch, ff, handles[ff.name], mf, limits).run())
    if batch.quarantine:
        where = f"{feed}/{day.isoformat()}"
        with conn.cursor() as cur, cur.copy(
                "copy raw.quarantine (feed, batch_date, file, line, raw_record, rule, message) from stdin") as cp:
            for file, spool in batch.quarantine:
                for line, rule, msg, text in spool:
                    cp.write_row((feed, day, file, line, json.dumps({"_text": text}, ensure_ascii=False), rule,
                                  f"{where} {file} line {line}: rule {rule}: {msg}"))
                spool.close()
    return BatchResult(feed, day, "loaded", files, replaced=prior == "loaded")


def batch_dates(landing: Path | str, feed: str) -> list[date]:
    """Batch dates present in the landing zone for a feed (entries named YYYY-MM-DD;
    other entries are reported by `landing_problems`)."""
    return landing_problems(landing, [feed])[0][feed]


def load_range(landing: Path | str, start: date, end: date, feeds: Iterable[str] | None = None,
               url: str | None = None, on_result: Callable[[BatchResult], None] | None = None,
               only_present: bool = True, skip_unchanged: bool = False, workers: int = 2,
               problems: list[LandingProblem] | None = None) -> list[BatchResult]:
    """Load every batch of [start, end]; returns results in contract feed order, dates ascending.

    No batch stops the run: a refused or held batch is returned as a BatchResult
    with status 'refused' / 'held' and the reason (recorded in the ledger), and
    so is a batch whose load failed for any other reason (status 'refused'). With
    only_present, dates without a batch folder are skipped (a missing day is
    visible in raw.batches as a gap). Entries below the feed folders that are not
    batches are recorded in ops.landing_problems and appended to `problems` if
    given. With skip_unchanged, a batch whose manifest and files are exactly those
    already loaded is not loaded again (status 'skipped'). Up to `workers` batches
    load at the same time, each on its own connection, taken in date order from
    one queue: batches are independent (each replaces only its own day's rows in
    month partitions that exist before it starts), so two days of the same feed
    may load at once.
    """
    chosen = [f for f in c.FEEDS if f in set(feeds or c.FEEDS)]
    present, found = landing_problems(landing, chosen)
    if problems is not None:
        problems.extend(found)
    if found:
        with _session(url) as conn:
            record_landing_problems(conn, found)
    queue: list[tuple[str, date]] = []
    for feed in chosen:
        dates = set(present[feed])
        day = start
        while day <= end:
            if not only_present or day in dates:
                queue.append((feed, day))
            day += timedelta(days=1)
    order = {f: i for i, f in enumerate(c.FEEDS)}
    queue.sort(key=lambda fd: (fd[1], order[fd[0]]))
    queue.reverse()  # pop() from the end: earliest first
    lock = threading.Lock()

    def worker() -> list[BatchResult]:
        out = []
        conn = None
        try:
            while True:
                with lock:
                    if not queue:
                        return out
                    feed, day = queue.pop()
                try:
                    if conn is None or conn.closed:
                        conn = _session(url)
                    res = load_batch(feed, day, landing, conn=conn, skip_unchanged=skip_unchanged)
                except BatchRefused as e:
                    res = BatchResult(feed, day, "held" if isinstance(e, BatchHeld) else "refused", refusal=str(e))
                except Exception as e:  # the warehouse went away: say so for this batch, try the next
                    res = BatchResult(feed, day, "refused", refusal=f"batch {feed}/{day.isoformat()}: not loaded, "
                                      f"{type(e).__name__}: {str(e)[:300]}")
                    if conn is not None:
                        conn.close()
                    conn = None
                out.append(res)
                if on_result:
                    with lock:
                        on_result(res)
        finally:
            if conn is not None:
                conn.close()

    n = max(1, min(workers, len(queue)))
    if n == 1:
        results = worker()
    else:
        with ThreadPoolExecutor(n) as pool:
            futures = [pool.submit(worker) for _ in range(n)]
            results = [res for fut in futures for res in fut.result()]
    return sorted(results, key=lambda res: (order[res.feed], res.batch_date))
