"""Load landing batches into raw: manifest check, COPY, set-based validation,
quarantine and the batch ledger, in ONE transaction per batch.

Why this shape (measured with `ggzy bench load`, see docs/benchmarks.md):
- Fixed costs dominate small daily files, so each step is paid once per batch
  or once per non-empty file, never per row or per empty file: one connection
  per worker for the whole run (not one per batch); one round trip opens the
  batch (lock, prior state, existing partitions, old quarantine); a non-empty
  file costs exactly one DDL statement, `CREATE TABLE ... PARTITION OF` with the
  load metadata as column defaults (no staging table, no rename, no ATTACH); a
  file with no data rows costs no DDL at all; the ledger is one round trip.
- The raw columns are STORAGE PLAIN (raw.py), so a partition has no TOAST table
  and index to create (about half the cost of the DDL). A record longer than
  LONG_RECORD bytes switches its partition back to EXTENDED first, so no row
  can fail for size.
- The client streams each file's bytes to `COPY ... FROM STDIN (FREEZE)` straight
  into the new partition, hashing the same bytes (sha256): one read, flat memory.
  It prefixes every record with its physical line number (`_line`), so records
  the client rejects (wrong number of fields; blank lines) are simply not sent and
  quarantined; a record spanning lines (RFC 4180 quoted newline) keeps its
  first line.
- JSONL lines are COPYed as one text field each into a session temp table and
  parsed ONCE (`doc::jsonb`) into the partition inside a savepoint; only if some
  line is not JSON does the slower per-line `pg_input_is_valid` path run.
- Validation is one statement per file, generated from the contract
  (ggzy.feeds.rules), each check once as a flag column of one scan (planning,
  not rows, is what a small file costs): cheap checks inline, costly ones once
  per distinct value. For CSV the costly kinds with an exact Python twin (check
  digits, regions, dates, numbers) are checked on the client, which splits
  fields anyway, once per distinct value per process (a cache across batches);
  the SQL then only looks for the few bad values. Failing rows are moved to
  raw.quarantine with rule and message and deleted by ctid. JIT and parallel
  query are off for the session (JIT alone cost seconds per big file).
- Exact duplicate rows (byte-identical records) are found with a Bloom filter on
  the client (memory bounded) and confirmed exactly on the server.
- delivered = loaded + quarantined is asserted per file before commit, with
  `loaded` from the server's COPY count minus the rows validation deleted.
- `load_range` runs the feeds on up to two connections at once (a feed's batches
  stay in date order on one connection: they lock the same parent tables).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import repeat
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ggzy import db
from ggzy.feeds import contract as c
from ggzy.feeds import rules as r
from ggzy.feeds.manifest import ENCODINGS, BatchRefused, Manifest, ManifestFile, batch_dir, read_manifest
from ggzy.feeds.raw import partition_name

BLOCK = 1 << 20  # bytes read per step; memory stays flat whatever the file size
MAX_RECORD_LINES = 10_000  # an unterminated quote would otherwise swallow the file
MAX_DISTINCT = 100_000  # distinct values kept per column and file for client-side checks
LONG_RECORD = 4000  # bytes; a longer record needs TOAST (GB18030 grows up to 1.5x in UTF-8; a heap row holds ~8 kB)
DOC_TABLE = "pg_temp.ggzy_load_doc"  # session temp table for JSONL lines
_CTRL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\r(?!\n)")  # cannot occur in a valid JSON line
_BLANK = re.compile(rb"(?m)^[ \t\r]*$")
_QUOTED = re.compile(rb'"[^"]*"')  # a quoted stretch: its commas do not separate fields (as in COPY's CSV parser)

__all__ = ["BatchRefused", "BatchResult", "FileResult", "batch_dates", "load_batch", "load_range"]


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
    status: str  # loaded | refused | skipped (unchanged since its last load)
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


class _Dups:
    """Bloom filter (2 hashes) over record bytes, sized from the file size and
    capped at 2^28 bits (32 MiB), so memory stays bounded.

    A hit only makes a *candidate*; the server confirms exact duplicates, so a
    false positive costs a lookup, never a wrongly quarantined row.
    """

    MAX_BITS = 1 << 28

    def __init__(self, file_bytes: int) -> None:
        import numpy as np

        self.np = np
        bits = 1 << 16
        while bits < min(self.MAX_BITS, file_bytes):  # >= 8 bits per record of >= 8 bytes
            bits <<= 1
        self.bits = bits
        self.bitmap = np.zeros(bits // 8, dtype=np.uint8)
        self.candidates: list[int] = []

    def add(self, records: list[bytes], lines: Iterable[int] | int) -> None:
        """`lines`: the line of each record, or the line of the first when consecutive."""
        np = self.np
        n = len(records)
        if not n:
            return
        h = np.fromiter(map(hash, records), dtype=np.int64, count=n).view(np.uint64)
        mask = np.uint64(self.bits - 1)
        i1 = h & mask
        i2 = (h >> np.uint64(29)) & mask
        b1, b2 = (i1 >> np.uint64(3)).astype(np.intp), (i2 >> np.uint64(3)).astype(np.intp)
        m1 = np.left_shift(1, (i1 & np.uint64(7)).astype(np.uint8)).astype(np.uint8)
        m2 = np.left_shift(1, (i2 & np.uint64(7)).astype(np.uint8)).astype(np.uint8)
        seen = ((self.bitmap[b1] & m1) != 0) & ((self.bitmap[b2] & m2) != 0)
        _, first = np.unique(h, return_index=True)
        within = np.ones(n, dtype=bool)
        within[first] = False
        hits = np.nonzero(seen | within)[0]
        np.bitwise_or.at(self.bitmap, b1, m1)
        np.bitwise_or.at(self.bitmap, b2, m2)
        if len(hits):
            if isinstance(lines, int):
                self.candidates.extend(int(lines + i) for i in hits)
            else:
                ll = list(lines)
                self.candidates.extend(ll[int(i)] for i in hits)


@dataclass
class _Stream:
    """Counters of one streamed file (client side)."""

    records: int = 0  # data records (what the manifest counts)
    sent: int = 0  # records sent to the server
    blank_lines: int = 0
    bytes: int = 0
    sha256: str = ""
    longest: int = 0  # longest record sent, in bytes
    quarantine: list[tuple[int, str, str, str]] = field(default_factory=list)  # line, rule, message, text


class _Sink:
    """COPY target opened on the first byte to send (a file without data rows
    creates no table); records too long for a PLAIN heap row met after COPY has
    started are spooled and sent after the table got its TOAST storage."""

    def __init__(self, open_copy: Callable[[int], Any], stack: ExitStack) -> None:
        self.open_copy, self.stack = open_copy, stack
        self.cp: Any = None
        self.spool: Any = None

    def write(self, data: bytes, longest: int) -> None:
        if not data:
            return
        if self.cp is None:
            self.cp = self.open_copy(longest)
        self.cp.write(data)

    def divert(self, data: bytes) -> None:
        if self.spool is None:
            self.spool = tempfile.SpooledTemporaryFile(max_size=16 << 20)
        self.spool.write(data)


class _CsvStreamer:
    """Forwards CSV records to COPY, each prefixed with its physical line number."""

    def __init__(self, sink: _Sink, want: int, encoding: str, where: tuple[str, date, str], dups: _Dups,
                 st: _Stream, collect: dict[int, set[bytes]]) -> None:
        self.sink, self.want, self.enc, self.where, self.dups, self.st = sink, want, encoding, where, dups, st
        self.commas = want - 1
        self.collect = collect  # field index -> distinct raw values seen, or _BLANKS (client-side checks)
        self.blank = dict.fromkeys(collect, False)  # for _BLANKS columns: an empty or all-space value seen
        self.line = 1  # header
        self.pending: list[bytes] | None = None
        self.pending_start = 0

    def body(self, data: bytes) -> None:
        """`data`: complete lines (ends with b'\\n')."""
        lines = data.split(b"\n")
        lines.pop()
        n = len(lines)
        longest = max(map(len, lines))
        if self.pending is None and b'"' not in data and (longest <= LONG_RECORD or self.sink.cp is None):
            # No quotes: every line is one record (or blank). Lines with the wrong
            # number of commas (blank, short, long rows: ~1% in real feeds) are
            # set aside one by one; the rest goes out in runs at C speed.
            cc = list(map(bytes.count, lines, repeat(b",")))
            commas = self.commas
            odd = [i for i, k in enumerate(cc) if k != commas] if cc.count(commas) != n else []
            first = self.line + 1
            out: list[bytes] = []
            start = 0
            for i in [*odd, n]:
                if i > start:
                    run = lines[start:i]
                    out.append(b"".join(map(b"%d,%b\n".__mod__, zip(range(first + start, first + i), run,
                                                                      strict=True))))
                    self._collect(run)
                    self.dups.add(run, first + start)
                if i < n:
                    ln = lines[i]
                    if ln == b"" or ln == b"\r":
                        self.st.blank_lines += 1
                    else:
                        self.st.records += 1
                        self.st.quarantine.append((first + i, r.COLUMN_COUNT,
                                                   f"{cc[i] + 1} fields, the header has {self.want}",
                                                   ln.decode(self.enc, "replace")))
                start = i + 1
            good = n - len(odd)
            self.sink.write(b"".join(out), longest)
            self.line += n
            self.st.records += good
            self.st.sent += good
            self.st.longest = max(self.st.longest, longest)
            return
        self._slow(lines)

    def _collect(self, lines: list[bytes]) -> None:
        """Distinct values of the pre-checked columns (lines without quotes)."""
        if not self.collect:
            return
        cols = list(zip(*map(bytes.split, lines, repeat(b",")), strict=True))
        for i, seen in list(self.collect.items()):
            vals = cols[i]
            if i == self.commas:  # the last field: without the CR of a CRLF line
                vals = [x[:-1] if x.endswith(b"\r") else x for x in vals]
            if seen is _BLANKS:
                if not self.blank[i] and (b"" in vals or not all(x.strip(b" ") for x in vals)):
                    self.blank[i] = True
                continue
            seen.update(vals)
            if len(seen) > MAX_DISTINCT:  # memory stays bounded: the SQL checks this column on every row
                del self.collect[i]

    def _slow(self, lines: list[bytes]) -> None:
        """Line by line: quoted fields (commas inside quotes do not count), records
        spanning lines, blank lines, wrong field counts, long records."""
        out: list[bytes] = []
        recs: list[bytes] = []
        rec_lines: list[int] = []
        want, cp = self.want, self.sink.cp
        for ln in lines:
            self.line += 1
            if self.pending is not None:
                self.pending.append(ln)
                if ln.count(b'"') % 2:
                    self._record(self.pending, self.pending_start, out, recs, rec_lines)
                    self.pending = None
                elif len(self.pending) > MAX_RECORD_LINES:
                    raise self._unterminated()
                continue
            q = ln.count(b'"')
            if q % 2:
                self.pending, self.pending_start = [ln], self.line
                continue
            nf = (ln.count(b",") if not q else _QUOTED.sub(b"", ln).count(b",")) + 1
            if nf == want and (cp is None or len(ln) <= LONG_RECORD):  # the common case, inline
                self.st.records += 1
                self.st.sent += 1
                out.append(b"%d,%b\n" % (self.line, ln))
                recs.append(ln)
                rec_lines.append(self.line)
                if self.collect:
                    self._note(_csv_fields(ln))
                continue
            if ln == b"" or ln == b"\r":
                self.st.blank_lines += 1
                continue
            self._record([ln], self.line, out, recs, rec_lines, nf)
        if out:
            longest = max(map(len, out))
            self.st.longest = max(self.st.longest, longest)
            self.sink.write(b"".join(out), longest)
        self.dups.add(recs, rec_lines)

    def _record(self, lines: list[bytes], start: int, out: list[bytes], recs: list[bytes],
                rec_lines: list[int], nf: int | None = None) -> None:
        self.st.records += 1
        raw = b"\n".join(lines)
        if nf is None:  # a record spanning lines: count its fields as PostgreSQL's CSV parser will
            nf = _QUOTED.sub(b"", raw).count(b",") + 1
        if nf == self.want:
            rec = b"%d,%b\n" % (start, raw)
            if len(rec) > LONG_RECORD and self.sink.cp is not None:
                self.sink.divert(rec)
            else:
                out.append(rec)
            self.st.sent += 1
            self.st.longest = max(self.st.longest, len(rec))
            recs.append(raw)
            rec_lines.append(start)
            if self.collect:
                self._note(_csv_fields(raw))
        else:
            text = raw.decode(self.enc, "replace")
            self.st.quarantine.append((start, r.COLUMN_COUNT, f"{nf} fields, the header has {self.want}", text))

    def _note(self, fields: list[bytes]) -> None:
        for i, seen in self.collect.items():
            if seen is _BLANKS:
                if not fields[i].strip(b" "):
                    self.blank[i] = True
            else:
                seen.add(fields[i])

    def _unterminated(self) -> BatchRefused:
        feed, day, file = self.where
        return BatchRefused(feed, day, file, f"line {self.pending_start}: quoted field never closed "
                            f"(rule {r.COLUMN_COUNT}); cannot tell where the record ends")

    def finish(self) -> None:
        if self.pending is not None:
            raise self._unterminated()


class _JsonlStreamer:
    """Forwards JSONL lines to COPY as `<line>\\x02<text>`; blank lines are not
    records, lines with raw control characters are quarantined here. Also notes
    which required keys occur anywhere in the file (a cheap byte search)."""

    def __init__(self, sink: _Sink, dups: _Dups, st: _Stream, keys: Iterable[str]) -> None:
        self.sink, self.dups, self.st = sink, dups, st
        self.line = 0
        self.missing = {k: f'"{k}"'.encode() for k in keys}

    def body(self, data: bytes) -> None:
        for k in [k for k, pat in self.missing.items() if pat in data]:
            del self.missing[k]
        lines = data.split(b"\n")
        lines.pop()
        if not _CTRL.search(data) and not _BLANK.search(data, 0, len(data) - 1):
            n = len(lines)
            first = self.line + 1
            self.sink.write(b"".join(map(b"%d\x02%b\n".__mod__, zip(range(first, first + n), lines, strict=True))), 0)
            self.dups.add(lines, first)
            self.line += n
            self.st.records += n
            self.st.sent += n
            self.st.longest = max(self.st.longest, max(map(len, lines)))
            return
        out: list[bytes] = []
        recs: list[bytes] = []
        rec_lines: list[int] = []
        for ln in lines:
            self.line += 1
            if not ln.strip():
                self.st.blank_lines += 1
                continue
            self.st.records += 1
            if _CTRL.search(ln.rstrip(b"\r")):
                self.st.quarantine.append((self.line, r.JSON_SYNTAX, "raw control character in the line (not valid JSON)",
                                           ln.decode("utf-8", "replace")))
                continue
            out.append(b"%d\x02%b\n" % (self.line, ln))
            recs.append(ln)
            rec_lines.append(self.line)
            self.st.sent += 1
            self.st.longest = max(self.st.longest, len(ln))
        self.sink.write(b"".join(out), 0)
        self.dups.add(recs, rec_lines)

    def finish(self) -> None:
        pass


def _csv_fields(raw: bytes) -> list[bytes]:
    """Field values of one CSV record exactly as COPY (format csv) reads them: a
    quote anywhere opens a quoted stretch, "" inside it is a quote, commas inside
    it do not separate. A final CR (CRLF files) is not part of the last field."""
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    if b'"' not in raw:
        return raw.split(b",")
    fields: list[bytes] = []
    buf = bytearray()
    in_quote = False
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if in_quote:
            if ch == 0x22:
                if i + 1 < n and raw[i + 1] == 0x22:
                    buf.append(0x22)
                    i += 1
                else:
                    in_quote = False
            else:
                buf.append(ch)
        elif ch == 0x22:
            in_quote = True
        elif ch == 0x2C:
            fields.append(bytes(buf))
            buf.clear()
        else:
            buf.append(ch)
        i += 1
    fields.append(bytes(buf))
    return fields


_VALID: dict[tuple[str, float | None, str], bool] = {}  # (kind, bound, value) -> valid; a pure function, so per process
# Shapes that are valid under the SQL checks whatever else holds (a conservative
# subset: anything else is left to the SQL check itself).
_SURE = {
    c.TIMESTAMP: re.compile(rb"(?m)^(?:(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
                            rb"[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\+08:00)?)$"),
    c.MONEY: re.compile(rb"(?m)^(?:(?:0|[1-9][0-9]{0,10})(?:\.[0-9]{1,2})?)$"),  # < 1e11
}
_BOOL_BYTES = frozenset(w.encode() for w in r._BOOLS)
_BLANKS: set[bytes] = set()  # marker: for this column only note whether an empty/all-space value occurs


def _real_day(v: bytes) -> bool:
    try:
        date(int(v[:4]), int(v[5:7]), int(v[8:10]))
        return True
    except ValueError:
        return False


def _unsure(ch: r.Check, col: c.Column, values: set[bytes], enc: str) -> list[str] | None:
    """The distinct delivered values of a column that the client cannot clear for
    check `ch` (the SQL check decides on exactly these), or None when the client
    does not pre-check this kind (the SQL check then runs on every row).

    Only clearing is done here, never condemning: a value is cleared by a
    conservative shape (timestamps, amounts), membership (enums, booleans) or the
    exact Python twin of the SQL check (check digits, regions, dates, numbers;
    each distinct value once per process). For `required` the answer is all or
    nothing: [] when no value is empty, else None.
    """
    if ch.rule == r.REQUIRED:
        blank = b"" in values or (col.kind == c.TEXT and any(not v.strip(b" ") for v in values))
        return None if blank else []
    vals = values - {b""}  # empty field = NULL: fine for every kind check
    if not vals:
        return []
    k = col.kind
    if k == c.ENUM:
        rest = vals - {v.encode(enc) for v in col.values}
    elif k == c.BOOL:
        rest = vals - _BOOL_BYTES
    elif k in _SURE and (col.max_value is None or col.max_value >= 1e11):
        sure = set(_SURE[k].findall(b"\n".join(vals)))
        if k == c.TIMESTAMP:  # the shape allows days 29-31: keep only real calendar days
            sure = {v for v in sure if v[8:10] < b"29" or _real_day(v)}
        rest = vals - sure
    elif k in r.CLIENT_KINDS:
        check = r.client_check(col)
        if len(_VALID) > 2_000_000:
            _VALID.clear()
        rest = set()
        for raw in vals:
            try:
                v = raw.decode(enc)
            except UnicodeDecodeError:
                return None  # COPY refuses such a file anyway; do not guess
            key = (k, col.max_value, v)
            ok = _VALID.get(key)
            if ok is None:
                ok = _VALID[key] = check(v)
            if not ok:
                rest.add(raw)
    else:
        return None
    try:
        return sorted(v.decode(enc) for v in rest)
    except UnicodeDecodeError:
        return None


def _pump(fh: Any, first: bytes, h: Any, streamer: _CsvStreamer | _JsonlStreamer, st: _Stream) -> None:
    """Feed complete lines to the streamer, block by block (the hash is updated here)."""
    carry = first
    while True:
        cut = carry.rfind(b"\n")
        if cut >= 0:
            streamer.body(carry[: cut + 1])
            carry = carry[cut + 1:]
        block = fh.read(BLOCK)
        if not block:
            break
        h.update(block)
        st.bytes += len(block)
        carry += block
    if carry:
        streamer.body(carry + b"\n")
    streamer.finish()


# ---------------------------------------------------------------------------
# Server side.


def _q(name: str) -> str:
    return sql.Identifier(name).as_string(None)


def _results(cur: psycopg.Cursor) -> list[list[tuple]]:
    """Rows of every statement of a multi-statement execute (empty for commands)."""
    out = []
    while True:
        out.append(cur.fetchall() if cur.description else [])
        if not cur.nextset():
            return out


def _read_header(first: bytes, enc: str, where: tuple[str, date, str]) -> tuple[list[str], bytes]:
    feed, day, file = where
    cut = first.find(b"\n")
    if cut < 0:
        raise BatchRefused(feed, day, file, "line 1: no complete header line")
    raw = first[:cut]
    text = raw.rstrip(b"\r").decode(enc, "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    if text.count('"') % 2:
        raise BatchRefused(feed, day, file, "line 1: header has an unterminated quote")
    names = [n.strip() for n in next(csv.reader([text]))]
    if any(not n for n in names):
        raise BatchRefused(feed, day, file, f"line 1: header has an empty column name ({text!r})")
    dup = [n for n, k in Counter(names).items() if k > 1]
    if dup:
        raise BatchRefused(feed, day, file, f"line 1: header repeats column(s) {', '.join(dup)}")
    return names, first[cut + 1:]


class _Batch:
    """State shared by the files of one batch (one transaction)."""

    def __init__(self, conn: psycopg.Connection, feed: str, day: date, existing: set[str]) -> None:
        self.conn, self.feed, self.day = conn, feed, day
        self.existing = existing  # partitions of this date present before the load
        self.deferred: list[str] = []  # DDL sent with the ledger (drops of partitions not delivered again)
        self.quarantine: list[tuple[str, int, str, str, str]] = []  # client-side bad rows: file, line, rule, msg, text


class _FileLoader:
    def __init__(self, batch: _Batch, ff: c.FeedFile, folder: Path, mf: ManifestFile) -> None:
        self.b, self.conn, self.ff, self.mf, self.day = batch, batch.conn, ff, mf, batch.day
        self.path = folder / mf.name
        self.where = (ff.feed, batch.day, mf.name)
        self.part = partition_name(ff, batch.day)
        self.tq = f"raw.{_q(self.part)}"
        self.version = self.conn.info.server_version
        self.res = FileResult(mf.name, rows_manifest=mf.rows)
        self.created = False
        self._t = time.perf_counter()

    def refuse(self, problem: str) -> BatchRefused:
        return BatchRefused(self.ff.feed, self.day, self.mf.name, problem)

    def _tick(self, phase: str | None = None) -> None:
        now = time.perf_counter()
        if phase:
            self.res.seconds[phase] = self.res.seconds.get(phase, 0.0) + now - self._t
        self._t = now

    def _create_sql(self, longest: int) -> str:
        """Replace this date's partition: one statement (two on re-delivery)."""
        d = r.lit(self.day.isoformat())
        stmt = ""
        if self.part in self.b.existing:
            stmt = f"drop table {self.tq}; "
            self.b.existing.discard(self.part)
        stmt += (f"create table {self.tq} partition of raw.{_q(self.ff.table)} (_batch_date default {d}, "
                 f"_file default {r.lit(self.mf.name)}, _loaded_at default now()) for values in ({d})")
        if longest > LONG_RECORD:
            stmt += "; " + self._toast_sql()
        self.created = True
        return stmt

    def _toast_sql(self) -> str:
        cols = [n for n in self.ff.column_names] + ["_file", "_extra"]
        return f"alter table {self.tq} " + ", ".join(f"alter {_q(n)} set storage extended" for n in cols)

    def run(self) -> FileResult:
        self._tick()
        copied = self._copy_jsonl() if self.ff.fmt == c.JSONL else self._copy_csv()
        st = self.st
        self.res.blank_lines, self.res.bytes, self.res.sha256 = st.blank_lines, st.bytes, st.sha256
        self.res.delivered = st.records
        if st.sha256 != self.mf.sha256:
            raise self.refuse(f"sha256 mismatch: manifest {self.mf.sha256}, file {st.sha256}")
        if st.records != self.mf.rows:
            raise self.refuse(f"row count mismatch: manifest says {self.mf.rows} data rows, file has {st.records}")
        self._tick("copy")
        by_rule: Counter[str] = Counter(q[1] for q in st.quarantine)
        self.b.quarantine.extend((self.mf.name, *q) for q in st.quarantine)
        by_rule[r.JSON_SYNTAX] += self.json_bad
        deleted = 0
        if self.created and copied:
            moved, counts = self._validate()
            by_rule.update(counts)
            deleted += moved
            self._tick("validate")
            if self.dups.candidates:
                n = self._duplicates(self.dups.candidates)
                by_rule[r.DUPLICATE_ROW] += n
                deleted += n
                self._tick("duplicates")
        elif self.part in self.b.existing:  # nothing to load today: the earlier delivery's rows go
            self.b.deferred.append(f"drop table {self.tq}")
            self.b.existing.discard(self.part)
        self.res.quarantined_by_rule = {k: v for k, v in sorted(by_rule.items()) if v}
        self.res.loaded = copied - deleted
        if st.sent - self.json_bad != copied or self.res.delivered != self.res.loaded + self.res.quarantined:
            raise self.refuse(f"rows do not balance: delivered {self.res.delivered}, sent {st.sent}, "
                              f"stored {copied}, loaded {self.res.loaded}, quarantined {self.res.quarantined} "
                              f"(loader bug; nothing loaded)")
        return self.res

    # -- COPY ------------------------------------------------------------------

    def _copy_csv(self) -> int:
        enc = ENCODINGS[self.ff.fmt]
        h = hashlib.sha256()
        self.json_bad = 0
        with open(self.path, "rb") as fh:
            first = fh.read(BLOCK)
            h.update(first)
            names, rest = _read_header(first, enc, self.where)
            missing = [n for n in self.ff.required_columns if n not in names]
            if missing:
                raise self.refuse(f"line 1: required column(s) {', '.join(missing)} missing from the header "
                                  f"(header: {', '.join(names)})")
            known = set(self.ff.column_names)
            extras = [n for n in names if n not in known]
            self.res.extra_columns = extras
            collect: dict[int, set[bytes]] = {}
            self.st = st = _Stream(bytes=len(first))
            self.dups = _Dups(self.path.stat().st_size)
            opts = "format csv"
            if enc != "utf-8":
                opts += ", encoding 'GB18030'"
            if extras:  # rare: COPY into a temp table, then move into the partition with _extra
                target = f"pg_temp.{_q('ggzy_load_x')}"
                cols = ["_line"] + [f"c{i}" for i in range(len(names))]
                copy_sql = f"copy {target} ({', '.join(cols)}) from stdin ({opts}, force_null ({', '.join(cols[1:])}))"

                def open_copy(longest: int) -> Any:
                    cur = self.copy_cur = self.conn.cursor()
                    cur.execute(f"drop table if exists {target}; create temp table {target} "
                                f"(_line integer, {', '.join(f'{x} text' for x in cols[1:])}) on commit drop")
                    return stack.enter_context(cur.copy(copy_sql))
            else:
                target = self.tq
                qcols = ", ".join(map(_q, names))
                pos = {n: i for i, n in enumerate(names)}
                kinds = {ch.column for ch in r.checks(self.ff, self.version) if ch.rule != r.REQUIRED}
                for ch in r.checks(self.ff, self.version):
                    if ch.column in pos:
                        collect.setdefault(pos[ch.column], set() if ch.column in kinds else _BLANKS)
                copy_sql = f"copy {target} (_line, {qcols}) from stdin ({opts}, freeze, force_null ({qcols}))"

                def open_copy(longest: int) -> Any:
                    cur = self.copy_cur = self.conn.cursor()
                    t = time.perf_counter()
                    cur.execute(self._create_sql(longest).encode())
                    self.res.seconds["ddl"] = time.perf_counter() - t
                    return stack.enter_context(cur.copy(copy_sql))
            try:
                with ExitStack() as stack:
                    sink = _Sink(open_copy, stack)
                    streamer = _CsvStreamer(sink, len(names), enc, self.where, self.dups, st, collect)
                    _pump(fh, rest, h, streamer, st)
                copied = self.copy_cur.rowcount if sink.cp is not None else 0
                if sink.spool is not None:
                    self.conn.execute(self._toast_sql())
                    sink.spool.seek(0)
                    with self.conn.cursor() as cur:
                        with cur.copy(copy_sql.replace(", freeze", "")) as cp2:
                            while blk := sink.spool.read(BLOCK):
                                cp2.write(blk)
                        copied += cur.rowcount
            except psycopg.Error as e:
                raise self.refuse(f"COPY failed: {_pg_error(e)}") from e
        st.sha256 = h.hexdigest()
        # check index -> the values the SQL must still look at ([] = none, absent = all rows)
        self.unsure: dict[int, list[str]] = {}
        pos = {n: i for i, n in enumerate(names)}
        for k, ch in enumerate(r.checks(self.ff, self.version)):
            i = pos.get(ch.column)
            if i is None or i not in streamer.collect:
                continue
            if streamer.collect[i] is _BLANKS:
                if not streamer.blank[i]:
                    self.unsure[k] = []
                continue
            left = _unsure(ch, self.ff.column(ch.column), streamer.collect[i], enc)
            if left is not None:
                self.unsure[k] = left
        if extras and copied:
            pairs = ", ".join(f"{r.lit(n)}, c{i}" for i, n in enumerate(names) if n in extras)
            sel = ", ".join(f"c{i}" for i, n in enumerate(names) if n in known)
            cols_known = ", ".join(_q(n) for n in names if n in known)
            self.conn.execute((self._create_sql(max(st.longest * 2, st.longest + 200)) + "; "
                               f"insert into {self.tq} (_line, {cols_known}, _extra) select _line, {sel}, "
                               f"nullif(jsonb_strip_nulls(jsonb_build_object({pairs})), '{{}}'::jsonb) "
                               f"from {target}").encode())
        return copied

    def _copy_jsonl(self) -> int:
        self.unsure = {}
        x = self.conn.execute
        x(f"delete from {DOC_TABLE}")
        h = hashlib.sha256()
        self.json_bad = 0
        with open(self.path, "rb") as fh:
            first = fh.read(BLOCK)
            h.update(first)
            self.st = st = _Stream(bytes=len(first))
            self.dups = _Dups(self.path.stat().st_size)
            try:
                with ExitStack() as stack:
                    sink = _Sink(lambda _n: stack.enter_context(self.conn.cursor().copy(
                        f"copy {DOC_TABLE} (_line, doc) from stdin (format csv, quote e'\\x01', delimiter e'\\x02')")),
                        stack)
                    streamer = _JsonlStreamer(sink, self.dups, st, self.ff.required_columns)
                    _pump(fh, first, h, streamer, st)
            except psycopg.Error as e:
                raise self.refuse(f"COPY failed: {_pg_error(e)}") from e
        st.sha256 = h.hexdigest()
        if not st.sent:
            return 0
        names = self.ff.column_names
        cols = ", ".join(map(_q, names))
        vals = ", ".join(f"nullif(j ->> {r.lit(n)}, '')" for n in names)
        keys = r.lit("{" + ",".join(f'"{n}"' for n in names) + "}")

        def insert(parse: str) -> str:
            return (f"with ins as (insert into {self.tq} ({cols}, _line, _extra) "
                    f"select {vals}, _line, nullif(j - {keys}::text[], '{{}}'::jsonb) "
                    f"from (select _line, {parse} as j from {DOC_TABLE}) s where jsonb_typeof(j) = 'object' "
                    f"returning _extra) "
                    f"select count(*), array(select distinct k from ins, jsonb_object_keys(ins._extra) k "
                    f"where ins._extra is not null order by 1) from ins")

        # Fast path: parse every line once; only if some line is not JSON (DataError)
        # parse line by line; a value too long for a PLAIN row (a JSON number such
        # as 1e5000 prints longer than it was written) gives the partition TOAST.
        parse = "doc::jsonb"
        prefix = self._create_sql(st.longest) + "; "
        with self.conn.cursor() as cur:
            for _attempt in range(3):
                try:
                    cur.execute(f"{prefix}savepoint ggzy_json; {insert(parse)}; release savepoint ggzy_json".encode())
                    res = _results(cur)
                    break
                except psycopg.errors.DataError:
                    x("rollback to savepoint ggzy_json")
                    parse = "case when pg_input_is_valid(doc, 'jsonb') then doc::jsonb end" \
                        if self.version >= 160000 else "raw.try_jsonb(doc)"
                except psycopg.errors.ProgramLimitExceeded:
                    x("rollback to savepoint ggzy_json")
                    x(self._toast_sql())
                prefix = ""
            else:
                raise self.refuse("JSON lines could not be stored (loader bug; nothing loaded)")
        copied, extra = next(rows[0] for rows in res if rows)
        if streamer.missing and copied:
            raise self.refuse(f"required key {sorted(streamer.missing)[0]!r} occurs in no object of the file")
        self.res.extra_columns = list(extra)
        if copied < st.sent:
            self.json_bad = x(
                f"insert into raw.quarantine (feed, batch_date, file, line, raw_record, rule, message) "
                f"select %s, %s, %s, d._line, jsonb_build_object('_text', left(d.doc, 10000)), %s, "
                f"format('%%s line %%s: rule %%s: not a JSON object: %%s', %s::text, d._line, %s::text, "
                f"left(d.doc, 200)) from {DOC_TABLE} d where not exists "
                f"(select 1 from {self.tq} t where t._line = d._line)",
                (self.ff.feed, self.day, self.mf.name, r.JSON_SYNTAX, self._where_text(), r.JSON_SYNTAX)).rowcount
        return copied

    # -- validation ------------------------------------------------------------

    def _where_text(self) -> str:
        return f"{self.ff.feed}/{self.day.isoformat()} {self.mf.name}"

    def _record_expr(self) -> str:
        pairs = ", ".join(f"{r.lit(n)}, {_q(n)}" for n in self.ff.column_names)
        return f"(jsonb_build_object({pairs}) || coalesce(_extra, '{{}}'::jsonb))"

    def _validate(self) -> tuple[int, Counter[str]]:
        """Move rows failing a contract check to quarantine: one statement.
        Returns (rows deleted, counts by rule)."""
        checks = r.checks(self.ff, self.version)
        if not checks:
            return 0, Counter()
        unsure = self.unsure
        distinct = [(i, ch) for i, ch in enumerate(checks) if ch.per_distinct and i not in unsure]
        fails: list[tuple[r.Check, str]] = []  # (check, SQL: this row fails it)
        for i, ch in enumerate(checks):
            col = _q(ch.column)
            if i in unsure:
                if unsure[i]:  # the SQL check, on the rows holding a value the client could not clear
                    fails.append((ch, f"({col} = any({r.lit(unsure[i])}::text[]) and not coalesce({ch.ok()}, false))"))
            elif ch.per_distinct:
                fails.append((ch, f"{col} in (select v from badv where k = {i})"))
            else:
                fails.append((ch, f"not coalesce({ch.ok()}, false)"))
        if not fails:
            return 0, Counter()
        cte = ""
        if distinct:
            parts = " union all ".join(
                f"select {i} as k, v from (select distinct {_q(ch.column)} as v from {self.tq} "
                f"where {_q(ch.column)} is not null offset 0) d{i} where not coalesce({ch.ok('v')}, false)"
                for i, ch in distinct)
            cte = f"badv as materialized ({parts}), "
        # Each check appears once (a flag column of one scan): planning, not rows,
        # is what a small daily file costs; rule names and messages are built for
        # the failing rows only.
        flags = ", ".join(f"({f}) as _f{i}" for i, (_ch, f) in enumerate(fails))
        cols = ", ".join(map(_q, self.ff.column_names))
        cond = " or ".join(f"_f{i}" for i in range(len(fails)))
        rules_arr = "array_remove(array[" + ", ".join(
            f"case when _f{i} then {r.lit(ch.rule)} end" for i, (ch, _f) in enumerate(fails)) + "], null)"
        msgs_arr = "array_remove(array[" + ", ".join(
            f"case when _f{i} then format('column %s = %s: %s', {r.lit(ch.column)}, "
            f"coalesce(quote_literal(left({_q(ch.column)}, 200)), 'empty'), {r.lit(ch.describe)}) end"
            for i, (ch, _f) in enumerate(fails)) + "], null)"
        sql_text = f"""
            with {cte}bad as materialized (
                select tid, _line, {rules_arr} as rules, {msgs_arr} as msgs, {self._record_expr()} as rec
                from (select ctid as tid, _line, {cols}, _extra, {flags} from {self.tq} offset 0) s
                where {cond}
            ), q as (
                insert into raw.quarantine (feed, batch_date, file, line, raw_record, rule, message)
                select {r.lit(self.ff.feed)}, {r.lit(self.day)}::date, {r.lit(self.mf.name)}, _line, rec,
                       coalesce(rules[1], 'unknown'),
                       format('%s line %s: rule %s: %s', {r.lit(self._where_text())}::text, _line, rules[1],
                              array_to_string(msgs, '; '))
                from bad
                returning rule
            ), d as (
                delete from {self.tq} where ctid = any(array(select tid from bad)) returning 1
            )
            select (select count(*) from d),
                   coalesce((select jsonb_object_agg(rule, n) from (select rule, count(*) n from q group by rule) s),
                            '{{}}'::jsonb)
        """
        deleted, counts = self.conn.execute(sql_text.encode()).fetchone()  # bytes: no client-side placeholders
        out: Counter[str] = Counter(counts)
        if deleted != sum(counts.values()):
            raise self.refuse(f"validation moved {sum(counts.values())} rows to quarantine but deleted {deleted} "
                              f"(loader bug; nothing loaded)")
        return deleted, out

    def _duplicates(self, candidates: list[int]) -> int:
        """Quarantine rows identical (all delivered values) to an earlier row of the file."""
        cols = list(self.ff.column_names) + ["_extra"]
        same = " and ".join(f"e.{_q(n)} is not distinct from c.{_q(n)}" for n in cols)
        k = _q(self.ff.key[0])
        sql_text = f"""
            with cand as materialized (
                select ctid as tid, * from {self.tq} where _line = any({r.lit(candidates)}::int[])
            ), dup as (
                select distinct on (c.tid) c.tid, c._line, e._line as first_line, c.rec
                from (select cand.*, {self._record_expr()} as rec from cand) c
                join {self.tq} e on coalesce(e.{k}, '') = coalesce(c.{k}, '') and e._line < c._line and {same}
                order by c.tid, e._line
            ), q as (
                insert into raw.quarantine (feed, batch_date, file, line, raw_record, rule, message)
                select {r.lit(self.ff.feed)}, {r.lit(self.day)}::date, {r.lit(self.mf.name)}, _line, rec,
                       {r.lit(r.DUPLICATE_ROW)}, format('%s line %s: rule %s: exact duplicate of line %s',
                       {r.lit(self._where_text())}::text, _line, {r.lit(r.DUPLICATE_ROW)}::text, first_line)
                from dup returning 1
            )
            delete from {self.tq} where ctid = any(array(select tid from dup))
        """
        return self.conn.execute(sql_text.encode()).rowcount


def _pg_error(e: psycopg.Error) -> str:
    d = e.diag
    msg = d.message_primary or str(e)
    if d.context:
        msg += f" ({d.context.strip()})"
    return msg


# ---------------------------------------------------------------------------
# Batches.


def _lock_key(feed: str, batch_date: date) -> str:
    return f"ggzy.load:{feed}:{batch_date.isoformat()}"


def _session(url: str | None) -> psycopg.Connection:
    """A loader connection: JIT and parallel query off (they cost more than they
    save on validation statements), a temp table for JSONL lines."""
    conn = db.connect(url, autocommit=True)  # transactions are explicit: BEGIN and COMMIT ride along
    conn.execute("set jit = off; set max_parallel_workers_per_gather = 0; "
                 f"create temp table if not exists {DOC_TABLE.split('.')[1]} (_line integer, doc text)")
    return conn


def _unchanged(conn: psycopg.Connection, folder: Path, manifest: Manifest) -> bool:
    """The batch's manifest equals the one loaded, and every file still has its sha256."""
    row = conn.execute("select status, manifest from raw.batches where feed = %s and batch_date = %s",
                       (manifest.feed, manifest.batch_date)).fetchone()
    if not row or row[0] != "loaded" or row[1] != manifest.raw:
        return False
    from ggzy.feeds.manifest import sha256_of

    return all(sha256_of(folder / f.name) == f.sha256 for f in manifest.files)


def load_batch(feed: str, batch_date: date, landing: Path | str, url: str | None = None, *,
               conn: psycopg.Connection | None = None, skip_unchanged: bool = False) -> BatchResult:
    """Load one batch `<landing>/<feed>/<YYYY-MM-DD>/` in one transaction.

    Returns the BatchResult of a loaded batch (status 'skipped' when
    skip_unchanged and the batch is byte-for-byte the one already loaded).
    Raises BatchRefused (after recording the refusal in raw.batches /
    raw.batch_events) when the batch does not match its manifest or the
    contract; raw is then unchanged. `conn`: reuse a connection (load_range
    does); it must not be inside a transaction.
    """
    if feed not in c.FEEDS:
        raise ValueError(f"unknown feed {feed!r}; feeds are {', '.join(c.FEEDS)}")
    if conn is None:
        with _session(url) as own:
            return load_batch(feed, batch_date, landing, conn=own, skip_unchanged=skip_unchanged)
    t0 = time.monotonic()
    folder = batch_dir(Path(landing), feed, batch_date)
    manifest: Manifest | None = None
    try:
        manifest = read_manifest(folder, feed, batch_date)
        if skip_unchanged and _unchanged(conn, folder, manifest):
            return BatchResult(feed, batch_date, "skipped", seconds=time.monotonic() - t0)
        try:
            res, deferred = _load(conn, feed, batch_date, folder, manifest)  # sends BEGIN with its first statement
            res.seconds = time.monotonic() - t0
            _record_load(conn, res, manifest, deferred)  # ends with COMMIT
        except BaseException:
            _rollback(conn)
            raise
        return res
    except BatchRefused as e:
        _record_refusal(conn, e, manifest, time.monotonic() - t0)
        raise


def _rollback(conn: psycopg.Connection) -> None:
    if not conn.closed and conn.info.transaction_status in (psycopg.pq.TransactionStatus.INTRANS,
                                                            psycopg.pq.TransactionStatus.INERROR):
        conn.execute("rollback")


def _load(conn: psycopg.Connection, feed: str, day: date, folder: Path,
          manifest: Manifest) -> tuple[BatchResult, list[str]]:
    files_of = c.files_of(feed)
    parts = [partition_name(ff, day) for ff in files_of]
    with conn.cursor() as cur:
        cur.execute(sql.SQL(
            "begin; select pg_advisory_xact_lock(hashtextextended({lock}, 0)); "
            "delete from raw.quarantine where feed = {feed} and batch_date = {day}; "
            "select (select status from raw.batches where feed = {feed} and batch_date = {day}), "
            "array(select relname::text from pg_class where relnamespace = 'raw'::regnamespace "
            "and relname = any({parts}::text[]))").format(
                lock=_lock_key(feed, day), feed=feed, day=day, parts=parts).as_string(conn).encode())
        prior, existing = _results(cur)[-1][0]
    batch = _Batch(conn, feed, day, set(existing))
    files: list[FileResult] = []
    for ff in files_of:
        mf = manifest.file(ff.name)
        if mf is None:
            part = partition_name(ff, day)
            if part in batch.existing:
                batch.deferred.append(f"drop table raw.{_q(part)}")
            files.append(FileResult(ff.name, absent=True))
            continue
        files.append(_FileLoader(batch, ff, folder, mf).run())
    if batch.quarantine:
        where = f"{feed}/{day.isoformat()}"
        with conn.cursor() as cur, cur.copy(
                "copy raw.quarantine (feed, batch_date, file, line, raw_record, rule, message) from stdin") as cp:
            for file, line, rule, msg, text in batch.quarantine:
                cp.write_row((feed, day, file, line, json.dumps({"_text": text[:10000]}, ensure_ascii=False), rule,
                              f"{where} {file} line {line}: rule {rule}: {msg}"))
    return BatchResult(feed, day, "loaded", files, replaced=prior == "loaded"), batch.deferred


def _record_load(conn: psycopg.Connection, res: BatchResult, manifest: Manifest, deferred: list[str]) -> None:
    """The ledger (and drops of partitions not delivered again) in one round trip."""
    duration = timedelta(seconds=res.seconds)
    L = sql.Literal
    raw_manifest = L(json.dumps(manifest.raw, ensure_ascii=False))
    stmts = list(deferred)
    stmts.append(sql.SQL(
        """insert into raw.batches as b (feed, batch_date, status, produced_at, manifest, rows_delivered, rows_loaded,
                                    rows_quarantined, refusal, deliveries, loaded_at, duration)
           values ({feed}, {day}, 'loaded', {produced}, {manifest}::jsonb, {dl}, {ld}, {qu}, null, 1, now(), {dur})
           on conflict (feed, batch_date) do update set
               status = 'loaded', produced_at = excluded.produced_at, manifest = excluded.manifest,
               rows_delivered = excluded.rows_delivered, rows_loaded = excluded.rows_loaded,
               rows_quarantined = excluded.rows_quarantined, refusal = null,
               deliveries = b.deliveries + 1, loaded_at = excluded.loaded_at, duration = excluded.duration""").format(
        feed=L(res.feed), day=L(res.batch_date), produced=L(manifest.produced_at), manifest=raw_manifest,
        dl=L(res.delivered), ld=L(res.loaded), qu=L(res.quarantined), dur=L(duration)).as_string(conn))
    stmts.append(sql.SQL("delete from raw.batch_files where feed = {} and batch_date = {}").format(
        L(res.feed), L(res.batch_date)).as_string(conn))
    rows = [sql.SQL("({})").format(sql.SQL(", ").join([
        L(res.feed), L(res.batch_date), L(f.name), L(f.rows_manifest), L(f.delivered), L(f.loaded), L(f.quarantined),
        sql.SQL("{}::jsonb").format(L(json.dumps(f.quarantined_by_rule))),
        sql.SQL("{}::text[]").format(L(f.extra_columns)), L(f.blank_lines), L(f.bytes), L(f.sha256)]))
        for f in res.files if not f.absent]
    if rows:
        stmts.append(sql.SQL(
            """insert into raw.batch_files (feed, batch_date, file, rows_manifest, rows_delivered, rows_loaded,
                   rows_quarantined, quarantined_by_rule, extra_columns, blank_lines, bytes, sha256) values {}""").format(
            sql.SQL(", ").join(rows)).as_string(conn))
    stmts.append(sql.SQL(
        """insert into raw.batch_events (feed, batch_date, event, message, rows_delivered, rows_loaded,
               rows_quarantined, duration, manifest) values ({}, {}, {}, {}, {}, {}, {}, {}, {}::jsonb)""").format(
        L(res.feed), L(res.batch_date), L("reloaded" if res.replaced else "loaded"),
        L(f"quarantined by rule: {res.quarantined_by_rule}" if res.quarantined else None),
        L(res.delivered), L(res.loaded), L(res.quarantined), L(duration), raw_manifest).as_string(conn))
    stmts.append("commit")
    conn.execute("; ".join(stmts).encode())


def _record_refusal(conn: psycopg.Connection, e: BatchRefused, manifest: Manifest | None, seconds: float) -> None:
    """Refusals are written in their own transaction: the load itself rolled back."""
    _rollback(conn)
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
               values (%s, %s, 'refused', %s, %s, %s, %s::jsonb)""",
            (e.feed, e.batch_date, e.file, str(e), timedelta(seconds=seconds), raw_manifest))


def batch_dates(landing: Path | str, feed: str) -> list[date]:
    """Batch dates present in the landing zone for a feed (folders named YYYY-MM-DD)."""
    root = Path(landing) / feed
    out = []
    if root.is_dir():
        for p in root.iterdir():
            try:
                out.append(date.fromisoformat(p.name))
            except ValueError:
                continue
    return sorted(out)


def load_range(landing: Path | str, start: date, end: date, feeds: Iterable[str] | None = None,
               url: str | None = None, on_result: Callable[[BatchResult], None] | None = None,
               only_present: bool = True, skip_unchanged: bool = False, workers: int = 2) -> list[BatchResult]:
    """Load every batch of [start, end]; returns results in contract feed order, dates ascending.

    A refused batch does not stop the run: it is returned as a BatchResult with
    status 'refused' and the reason. With only_present, dates without a batch
    folder are skipped (a missing day is visible in raw.batches as a gap). With
    skip_unchanged, a batch whose manifest and files are exactly those already
    loaded is not loaded again (status 'skipped'). Up to `workers` feeds load at
    the same time, each on its own connection, each feed's batches in date order.
    """
    chosen = [f for f in c.FEEDS if f in set(feeds or c.FEEDS)]
    per_feed: dict[str, list[date]] = {}
    for feed in chosen:
        present = set(batch_dates(landing, feed))
        days, day = [], start
        while day <= end:
            if not only_present or day in present:
                days.append(day)
            day += timedelta(days=1)
        per_feed[feed] = days
    lock = threading.Lock()
    # the biggest feed first, the others share the second connection
    queue = sorted(chosen, key=lambda f: -sum(_size(Path(landing) / f / d.isoformat()) for d in per_feed[f][:3]))

    def worker() -> list[BatchResult]:
        out = []
        conn = None
        try:
            while True:
                with lock:
                    if not queue:
                        return out
                    feed = queue.pop(0)
                if conn is None:
                    conn = _session(url)
                for day in per_feed[feed]:
                    try:
                        res = load_batch(feed, day, landing, conn=conn, skip_unchanged=skip_unchanged)
                    except BatchRefused as e:
                        res = BatchResult(feed, day, "refused", refusal=str(e))
                    out.append(res)
                    if on_result:
                        with lock:
                            on_result(res)
        finally:
            if conn is not None:
                conn.close()

    n = max(1, min(workers, len(chosen)))
    if n == 1:
        results = worker()
    else:
        with ThreadPoolExecutor(n) as pool:
            futures = [pool.submit(worker) for _ in range(n)]
            results = [res for fut in futures for res in fut.result()]
    order = {f: i for i, f in enumerate(c.FEEDS)}
    return sorted(results, key=lambda res: (order[res.feed], res.batch_date))


def _size(folder: Path) -> int:
    try:
        return sum(p.stat().st_size for p in folder.iterdir())
    except OSError:
        return 0
