"""Load landing batches into raw: manifest check, COPY, set-based validation,
quarantine and the batch ledger, in ONE transaction per batch.

Why this shape (measured with `ggzy bench load`, see docs/benchmarks.md):
- Fixed costs dominate small daily files, so each step is paid once per batch
  or once per non-empty file, never per row or per empty file: one connection
  per worker for the whole run; one round trip opens the batch (lock, the
  earlier delivery's quarantine and rows, prior state); the ledger and COMMIT
  are one more.
- No DDL per file: raw tables have one partition per contract file and month
  (raw.py), created once (before the batch, in its own transaction). A
  re-delivered day is replaced by DELETE of that day's rows inside the batch's
  transaction, sent only when the ledger says the day was loaded before.
- The client streams each file's bytes to `COPY ... FROM STDIN` straight into
  the month partition, hashing the same bytes (sha256): one read, flat memory.
  The partition fills `_batch_date`, `_file` (transaction-local settings) and
  `_loaded_at` itself; the client prefixes every record with its physical line
  number (`_line`), in bulk per block (split, count, join: C-level calls, no
  per-field work). It must look at lines anyway: in real feeds most big files
  hold a row with a wrong number of fields, which would make COPY refuse the
  whole file, so such rows (and blank lines) are set aside here and quarantined;
  a record spanning lines (RFC 4180 quoted newline) keeps its first line.
- JSONL lines are COPYed as one text field each into a session temp table and
  parsed ONCE (`doc::jsonb`) into the partition inside a savepoint; only if some
  line is not JSON does the slower per-line `pg_input_is_valid` path run.
- Validation is one prepared statement per file (one generic plan per contract
  file and month), generated from the contract (ggzy.feeds.rules): costly checks
  (check digits, regions, project codes, dates, numbers) once per distinct value,
  cheap ones per row, each as a flag column of one scan. It reads only this
  file's rows: the pages the partition grew by (a TID range scan from its size
  before the COPY); if the rows counted there are fewer than the rows stored
  (the heap reused free space of earlier pages), the rest of the day's rows are
  validated too. Failing rows are moved to raw.quarantine with rule and message
  and deleted by ctid. JIT and parallel query are off for the session.
- Exact duplicate rows (byte-identical records) are found with a Bloom filter on
  the client (memory bounded) and confirmed exactly on the server.
- delivered = loaded + quarantined is asserted per file before commit, with
  `loaded` from the server's COPY count minus the rows validation deleted.
- `load_range` loads up to two batches at once (one connection each), taken in
  date order from one queue.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import threading
import time
import weakref
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
from ggzy.feeds.raw import DAY_SETTING, extended_storage, merge_daily_partitions, partition_ddl, partition_name

BLOCK = 1 << 20  # bytes read per step; memory stays flat whatever the file size
MAX_RECORD_LINES = 10_000  # an unterminated quote would otherwise swallow the file
DOC_PREFIX = "ggzy_doc_"  # session temp tables for JSONL lines, one per JSONL contract file, emptied at commit
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
    quarantine: list[tuple[int, str, str, str]] = field(default_factory=list)  # line, rule, message, text


class _Sink:
    """COPY target opened on the first byte to send (a file without data rows
    sends no statement at all)."""

    def __init__(self, open_copy: Callable[[], Any]) -> None:
        self.open_copy = open_copy
        self.cp: Any = None

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self.cp is None:
            self.cp = self.open_copy()
        self.cp.write(data)


class _CsvStreamer:
    """Forwards CSV records to COPY, each prefixed with its physical line number.

    Per block of complete lines, all in C-level bulk operations (split, count,
    join; ~0.3 s for a scale-1 year): lines without a quote character whose comma
    count is right go out as they are, behind their line number; the others
    (blank lines, rows with a wrong number of fields, ~1 per 100 rows in real
    feeds; quoted fields) are handled one by one. Rows with a wrong number of
    fields are never sent (COPY would refuse the whole file) but quarantined here.
    """

    def __init__(self, sink: _Sink, want: int, encoding: str, where: tuple[str, date, str], dups: _Dups,
                 st: _Stream) -> None:
        self.sink, self.want, self.enc, self.where, self.dups, self.st = sink, want, encoding, where, dups, st
        self.commas = want - 1
        self.line = 1  # header
        self.pending: list[bytes] | None = None
        self.pending_start = 0

    def body(self, data: bytes) -> None:
        """`data`: complete lines (ends with b'\\n')."""
        crlf = b"\r" in data
        if crlf and self.pending is None and b'"' not in data:
            # CRLF line ends (RFC 4180, Excel): with no quote in the block every
            # CR LF ends a record; COPY gets LF only, so that the last record
            # (often without a line end) and any LF-only line agree with the rest.
            data = data.replace(b"\r\n", b"\n")
            crlf = b"\r" in data
        lines = data.split(b"\n")
        lines.pop()
        n = len(lines)
        if self.pending is None and not crlf and b'"' not in data:
            # No quotes: every line is one record (or blank). Lines with the wrong
            # number of commas are set aside one by one; the rest goes out in runs.
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
            self.sink.write(b"".join(out))
            self.line += n
            self.st.records += good
            self.st.sent += good
            return
        self._slow(lines)

    def _slow(self, lines: list[bytes]) -> None:
        """Line by line: quoted fields (commas inside quotes do not count), records
        spanning lines, blank lines, wrong field counts."""
        out: list[bytes] = []
        recs: list[bytes] = []
        rec_lines: list[int] = []
        want = self.want
        for ln in lines:
            self.line += 1
            if self.pending is not None:
                # inside quotes a CR LF is data and stays; _record drops the CR
                # that ends the record
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
            if ln.endswith(b"\r"):
                ln = ln[:-1]
            nf = (ln.count(b",") if not q else _QUOTED.sub(b"", ln).count(b",")) + 1
            if nf == want:  # the common case, inline
                self.st.records += 1
                self.st.sent += 1
                out.append(b"%d,%b\n" % (self.line, ln))
                recs.append(ln)
                rec_lines.append(self.line)
                continue
            if ln == b"":
                self.st.blank_lines += 1
                continue
            self._record([ln], self.line, out, recs, rec_lines, nf)
        if out:
            self.sink.write(b"".join(out))
        self.dups.add(recs, rec_lines)

    def _record(self, lines: list[bytes], start: int, out: list[bytes], recs: list[bytes],
                rec_lines: list[int], nf: int | None = None) -> None:
        self.st.records += 1
        raw = b"\n".join(lines)
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if nf is None:  # a record spanning lines: count its fields as PostgreSQL's CSV parser will
            nf = _QUOTED.sub(b"", raw).count(b",") + 1
        if nf == self.want:
            out.append(b"%d,%b\n" % (start, raw))
            self.st.sent += 1
            recs.append(raw)
            rec_lines.append(start)
        else:
            text = raw.decode(self.enc, "replace")
            self.st.quarantine.append((start, r.COLUMN_COUNT, f"{nf} fields, the header has {self.want}", text))

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
        crlf = b"\r" in data
        if crlf:  # CR LF line ends: COPY gets LF only (a JSON text holds no raw CR)
            data = data.replace(b"\r\n", b"\n")
            crlf = b"\r" in data
        lines = data.split(b"\n")
        lines.pop()
        if not crlf and not _CTRL.search(data) and not _BLANK.search(data, 0, len(data) - 1):
            n = len(lines)
            first = self.line + 1
            self.sink.write(b"".join(map(b"%d\x02%b\n".__mod__, zip(range(first, first + n), lines, strict=True))))
            self.dups.add(lines, first)
            self.line += n
            self.st.records += n
            self.st.sent += n
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
            ln = ln.rstrip(b"\r")
            if _CTRL.search(ln):
                self.st.quarantine.append((self.line, r.JSON_SYNTAX, "raw control character in the line (not valid JSON)",
                                           ln.decode("utf-8", "replace")))
                continue
            out.append(b"%d\x02%b\n" % (self.line, ln))
            recs.append(ln)
            rec_lines.append(self.line)
            self.st.sent += 1
        self.sink.write(b"".join(out))
        self.dups.add(recs, rec_lines)

    def finish(self) -> None:
        pass


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
    """`first`: the file's first block (all of it if shorter than BLOCK: then a
    header without a line end is the whole file, as empty exports often are)."""
    feed, day, file = where
    cut = first.find(b"\n")
    if cut < 0 and len(first) < BLOCK:
        cut = len(first)
    if cut < 0:
        raise BatchRefused(feed, day, file, f"line 1: no line end in the first {BLOCK} bytes (no header line)")
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

    def __init__(self, conn: psycopg.Connection, feed: str, day: date, sizes: dict[str, int]) -> None:
        self.conn, self.feed, self.day = conn, feed, day
        self.sizes = sizes  # month partition -> its size in pages when the batch began
        self.quarantine: list[tuple[str, int, str, str, str]] = []  # client-side bad rows: file, line, rule, msg, text


_VALIDATE_SQL: dict[tuple[str, str, str, int], str] = {}  # (table, partition, scope, server version) -> statement


def _sql(text: str, **params: str) -> str:
    """A statement for psycopg with named placeholders: '%' of the text escaped,
    then each {NAME} token replaced by %(name)s (prepared statements: one plan
    per contract file and month, parameters for the rest)."""
    text = text.replace("%", "%%")
    for k, v in params.items():
        text = text.replace("{" + k + "}", f"%({k.lower()})s::{v}")
    return text


class _FileLoader:
    def __init__(self, batch: _Batch, ff: c.FeedFile, folder: Path, mf: ManifestFile) -> None:
        self.b, self.conn, self.ff, self.mf, self.day = batch, batch.conn, ff, mf, batch.day
        self.path = folder / mf.name
        self.where = (ff.feed, batch.day, mf.name)
        self.part = partition_name(ff, batch.day)
        self.tq = f"raw.{_q(self.part)}"
        self.version = self.conn.info.server_version
        self.res = FileResult(mf.name, rows_manifest=mf.rows)
        self.start = "(0,0)"  # first page of the month partition this file's rows can be on (see _open)
        self.scope = "_batch_date = {DAY} and ctid >= {START}"  # this file's rows in the month partition
        self.tids = "{}"  # rows of this file stored before page `start` (free space reused), if any
        self._t = time.perf_counter()

    def refuse(self, problem: str) -> BatchRefused:
        return BatchRefused(self.ff.feed, self.day, self.mf.name, problem)

    def _tick(self, phase: str | None = None) -> None:
        now = time.perf_counter()
        if phase:
            self.res.seconds[phase] = self.res.seconds.get(phase, 0.0) + now - self._t
        self._t = now

    def _params(self) -> dict[str, Any]:
        return {"day": self.day, "start": self.start, "tids": self.tids, "feed": self.ff.feed, "file": self.mf.name,
                "where": self._where_text()}

    def _open(self) -> None:
        """Before the first row of this file is stored: the first page the rows can
        go to. A backend keeps filling the page it wrote last, then extends the
        table: so the rows go to pages from min(the partition's size when the batch
        began, the last page this connection wrote to it) on, unless the heap
        reuses free space of earlier pages. Validation scans those pages only (a
        TID range) and checks that it saw every stored row, else it also finds and
        validates the day's rows before them."""
        size = self.b.sizes[self.part]
        last = _LAST_PAGE.setdefault(self.conn, {}).get(self.part)
        self.start = f"({max(0, size - 1) if last is None else min(size, last)},0)"

    def _note_last_page(self, max_tid: str | None) -> None:
        if max_tid:
            page = int(max_tid.strip("()").split(",")[0])
            pages = _LAST_PAGE.setdefault(self.conn, {})
            pages[self.part] = max(page, pages.get(self.part, 0)) if "{TIDS}" in self.scope else page

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
        if copied:
            moved, counts, seen = self._validate()
            self._tick("validate")
            if seen != copied:  # some rows went to free space of earlier pages: find them (one scan), validate them
                stray = self.conn.execute(_sql(f"select array_agg(ctid)::text[] from {self.tq} "
                                               "where _batch_date = {DAY} and ctid < {START}", DAY="date",
                                               START="tid"), self._params()).fetchone()[0] or []
                self.tids = "{" + ",".join(f'"{t}"' for t in stray) + "}"
                self.scope = "ctid = any({TIDS}) and _batch_date = {DAY}"
                moved2, counts2, seen2 = self._validate()
                self._tick("validate_rest")
                moved += moved2
                counts.update(counts2)
                seen += seen2
                self.scope = "_batch_date = {DAY} and (ctid >= {START} or ctid = any({TIDS}))"
                if seen != copied:
                    raise self.refuse(f"validation saw {seen} rows of {copied} stored (loader bug; nothing loaded)")
            by_rule.update(counts)
            deleted += moved
            self._tick("validate")
            if self.dups.candidates:
                n = self._duplicates(self.dups.candidates)
                by_rule[r.DUPLICATE_ROW] += n
                deleted += n
                self._tick("duplicates")
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
            if not first:  # a zero-byte export: no header, no rows (the manifest must say rows 0)
                self.st = _Stream(sha256=h.hexdigest())
                return 0
            names, rest = _read_header(first, enc, self.where)
            missing = [n for n in self.ff.required_columns if n not in names]
            if missing:
                raise self.refuse(f"line 1: required column(s) {', '.join(missing)} missing from the header "
                                  f"(header: {', '.join(names)})")
            known = set(self.ff.column_names)
            extras = [n for n in names if n not in known]
            self.res.extra_columns = extras
            self.st = st = _Stream(bytes=len(first))
            self.dups = _Dups(self.path.stat().st_size)
            opts = "format csv"
            if enc != "utf-8":
                opts += ", encoding 'GB18030'"
            if extras:  # rare: COPY into a temp table, then move into the partition with _extra
                target = f"pg_temp.{_q('ggzy_load_x')}"
                cols = ["_line"] + [f"c{i}" for i in range(len(names))]
                copy_sql = f"copy {target} ({', '.join(cols)}) from stdin ({opts}, force_null ({', '.join(cols[1:])}))"

                def open_copy() -> Any:
                    cur = self.copy_cur = self.conn.cursor()
                    cur.execute(f"drop table if exists {target}; create temp table {target} "
                                f"(_line integer, {', '.join(f'{x} text' for x in cols[1:])}) on commit drop")
                    return stack.enter_context(cur.copy(copy_sql))
            else:
                qcols = ", ".join(map(_q, names))
                copy_sql = f"copy {self.tq} (_line, {qcols}) from stdin ({opts}, force_null ({qcols}))"

                def open_copy() -> Any:
                    cur = self.copy_cur = self.conn.cursor()
                    self._open()
                    return stack.enter_context(cur.copy(copy_sql))
            try:
                with ExitStack() as stack:
                    sink = _Sink(open_copy)
                    streamer = _CsvStreamer(sink, len(names), enc, self.where, self.dups, st)
                    _pump(fh, rest, h, streamer, st)
                copied = self.copy_cur.rowcount if sink.cp is not None else 0
            except psycopg.Error as e:
                raise self.refuse(f"COPY failed: {_pg_error(e)}") from e
        st.sha256 = h.hexdigest()
        if extras and copied:
            pairs = ", ".join(f"{r.lit(n)}, c{i}" for i, n in enumerate(names) if n in extras)
            sel = ", ".join(f"c{i}" for i, n in enumerate(names) if n in known)
            cols_known = ", ".join(_q(n) for n in names if n in known)
            with self.conn.cursor() as cur:
                self._open()
                cur.execute((f"insert into {self.tq} (_line, {cols_known}, _extra) select _line, {sel}, "
                             f"nullif(jsonb_strip_nulls(jsonb_build_object({pairs})), '{{}}'::jsonb) "
                             f"from {target}").encode())
        return copied

    def _copy_jsonl(self) -> int:
        x = self.conn.execute
        doc_table = f"pg_temp.{_q(DOC_PREFIX + self.ff.table)}"
        h = hashlib.sha256()
        self.json_bad = 0
        with open(self.path, "rb") as fh:
            first = fh.read(BLOCK)
            h.update(first)
            self.st = st = _Stream(bytes=len(first))
            if first.startswith(b"\xef\xbb\xbf"):  # a UTF-8 BOM (Windows exporters): not part of line 1's JSON
                first = first[3:]
            self.dups = _Dups(self.path.stat().st_size)
            try:
                with ExitStack() as stack:
                    sink = _Sink(lambda: stack.enter_context(self.conn.cursor().copy(
                        f"copy {doc_table} (_line, doc) from stdin (format csv, quote e'\\x01', delimiter e'\\x02')")))
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
                    f"from (select _line, {parse} as j from {doc_table}) s where jsonb_typeof(j) = 'object' "
                    f"returning _extra) "
                    f"select count(*), array(select distinct k from ins, jsonb_object_keys(ins._extra) k "
                    f"where ins._extra is not null order by 1) from ins")

        # Fast path: parse every line once; only if some line is not JSON (DataError)
        # parse line by line.
        parse = "doc::jsonb"
        with self.conn.cursor() as cur:
            self._open()
            try:
                cur.execute(f"savepoint ggzy_json; {insert(parse)}; release savepoint ggzy_json".encode())
            except psycopg.errors.DataError:
                x("rollback to savepoint ggzy_json")
                parse = "case when pg_input_is_valid(doc, 'jsonb') then doc::jsonb end" \
                    if self.version >= 160000 else "raw.try_jsonb(doc)"
                cur.execute(f"savepoint ggzy_json; {insert(parse)}; release savepoint ggzy_json".encode())
            res = _results(cur)
        copied, extra = next(rows[0] for rows in res if rows)
        if streamer.missing and copied:
            raise self.refuse(f"required key {sorted(streamer.missing)[0]!r} occurs in no object of the file")
        self.res.extra_columns = list(extra)
        if copied < st.sent:
            self.json_bad = x(_sql(
                f"insert into raw.quarantine (feed, batch_date, file, line, raw_record, rule, message) "
                f"select {{FEED}}, {{DAY}}, {{FILE}}, d._line, jsonb_build_object('_text', left(d.doc, 10000)), "
                f"{r.lit(r.JSON_SYNTAX)}, format('%s line %s: rule %s: not a JSON object: %s', {{WHERE}}, d._line, "
                f"{r.lit(r.JSON_SYNTAX)}::text, left(d.doc, 200)) from {doc_table} d where not exists "
                f"(select 1 from {self.tq} t where t._line = d._line and t._batch_date = {{DAY}})",
                FEED="text", DAY="date", FILE="text", WHERE="text", START="tid", TIDS="tid[]"), self._params()).rowcount
        return copied

    # -- validation ------------------------------------------------------------

    def _where_text(self) -> str:
        return f"{self.ff.feed}/{self.day.isoformat()} {self.mf.name}"

    def _record_expr(self) -> str:
        pairs = ", ".join(f"{r.lit(n)}, {_q(n)}" for n in self.ff.column_names)
        return f"(jsonb_build_object({pairs}) || coalesce(_extra, '{{}}'::jsonb))"

    def _validate(self) -> tuple[int, Counter[str], int]:
        """Move this file's rows failing a contract check to quarantine: one
        statement (prepared: one plan per contract file and month). Costly checks
        run once per distinct value, the rest once per row. Returns (rows
        deleted, counts by rule, rows of the file the statement saw)."""
        key = (self.ff.table, self.tq, self.scope, self.version)
        q = _VALIDATE_SQL.get(key)
        if q is None:
            q = _VALIDATE_SQL[key] = self._validate_sql()
        deleted, counts, (seen, max_tid) = self.conn.execute(q, self._params(), prepare=True).fetchone()
        self._note_last_page(max_tid)
        out: Counter[str] = Counter(counts)
        if deleted != sum(counts.values()):
            raise self.refuse(f"validation moved {sum(counts.values())} rows to quarantine but deleted {deleted} "
                              f"(loader bug; nothing loaded)")
        return deleted, out, int(seen)

    def _validate_sql(self) -> str:
        checks = r.checks(self.ff, self.version)
        scope = self.scope
        distinct = [(i, ch) for i, ch in enumerate(checks) if ch.per_distinct]
        fails: list[tuple[r.Check, str]] = []  # (check, SQL: this row fails it)
        for i, ch in enumerate(checks):
            col = _q(ch.column)
            if ch.per_distinct:
                fails.append((ch, f"{col} in (select v from badv where k = {i})"))
            else:
                fails.append((ch, f"not coalesce({ch.ok()}, false)"))
        cte = ""
        if distinct:
            parts = " union all ".join(
                f"select {i} as k, v from (select distinct {_q(ch.column)} as v from {self.tq} "
                f"where {scope} and {_q(ch.column)} is not null offset 0) d{i} where not coalesce({ch.ok('v')}, false)"
                for i, ch in distinct)
            cte = f"badv as materialized ({parts}), "
        # Each check appears once (a flag column of one scan); rule names and
        # messages are built for the failing rows only.
        flags = ", ".join(f"({f}) as _f{i}" for i, (_ch, f) in enumerate(fails)) or "false as _f0"
        cols = ", ".join(map(_q, self.ff.column_names))
        cond = " or ".join(f"_f{i}" for i in range(len(fails))) or "_f0"
        rules_arr = "array_remove(array[" + ", ".join(
            f"case when _f{i} then {r.lit(ch.rule)} end" for i, (ch, _f) in enumerate(fails)) + "]::text[], null)"
        msgs_arr = "array_remove(array[" + ", ".join(
            f"case when _f{i} then format('column %s = %s: %s', {r.lit(ch.column)}, "
            f"coalesce(quote_literal(left({_q(ch.column)}, 200)), 'empty'), {r.lit(ch.describe)}) end"
            for i, (ch, _f) in enumerate(fails)) + "]::text[], null)"
        sql_text = f"""
            with {cte}bad as materialized (
                select tid, _line, {rules_arr} as rules, {msgs_arr} as msgs, {self._record_expr()} as rec
                from (select ctid as tid, _line, {cols}, _extra, {flags} from {self.tq} where {scope} offset 0) s
                where {cond}
            ), q as (
                insert into raw.quarantine (feed, batch_date, file, line, raw_record, rule, message)
                select {{FEED}}, {{DAY}}, {{FILE}}, _line, rec, coalesce(rules[1], 'unknown'),
                       format('%s line %s: rule %s: %s', {{WHERE}}, _line, rules[1], array_to_string(msgs, '; '))
                from bad
                returning rule
            ), d as (
                delete from {self.tq} where ctid = any(array(select tid from bad)) returning 1
            )
            select (select count(*) from d),
                   coalesce((select jsonb_object_agg(rule, n) from (select rule, count(*) n from q group by rule) s),
                            '{{}}'::jsonb),
                   (select array[count(*)::text, max(ctid)::text] from {self.tq} where {scope})
        """
        return _sql(sql_text, FEED="text", DAY="date", FILE="text", WHERE="text", START="tid", TIDS="tid[]")

    def _duplicates(self, candidates: list[int]) -> int:
        """Quarantine rows identical (all delivered values) to an earlier row of the file."""
        cols = list(self.ff.column_names) + ["_extra"]
        same = " and ".join(f"e.{_q(n)} is not distinct from c.{_q(n)}" for n in cols)
        k = _q(self.ff.key[0])
        # this file's rows: TID scans only (the new pages, and rows found before them, if any)
        rows = (f"(select ctid as tid, * from {self.tq} where _batch_date = {{DAY}} and ctid >= {{START}} union all "
                f"select ctid as tid, * from {self.tq} where _batch_date = {{DAY}} and ctid = any({{TIDS}}))")
        sql_text = f"""
            with cand as materialized (
                select * from {rows} f where _line = any({{CANDS}})
            ), dup as (
                select distinct on (c.tid) c.tid, c._line, e._line as first_line, c.rec
                from (select cand.*, {self._record_expr()} as rec from cand) c
                join {rows} e on coalesce(e.{k}, '') = coalesce(c.{k}, '') and e._line < c._line and {same}
                order by c.tid, e._line
            ), q as (
                insert into raw.quarantine (feed, batch_date, file, line, raw_record, rule, message)
                select {{FEED}}, {{DAY}}, {{FILE}}, _line, rec,
                       {r.lit(r.DUPLICATE_ROW)}, format('%s line %s: rule %s: exact duplicate of line %s',
                       {{WHERE}}, _line, {r.lit(r.DUPLICATE_ROW)}::text, first_line)
                from dup returning 1
            )
            delete from {self.tq} where ctid = any(array(select tid from dup))
        """
        q = _sql(sql_text, FEED="text", DAY="date", FILE="text", WHERE="text", START="tid", TIDS="tid[]",
                 CANDS="int[]")
        return self.conn.execute(q, {**self._params(), "cands": candidates}, prepare=True).rowcount


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
_LAST_PAGE: weakref.WeakKeyDictionary[psycopg.Connection, dict[str, int]] = weakref.WeakKeyDictionary()


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
            _ensure_partitions(conn, feed, batch_date)
            res = _load(conn, feed, batch_date, folder, manifest)  # sends BEGIN with its first statement
            res.seconds = time.monotonic() - t0
            _record_load(conn, res, manifest)  # ends with COMMIT
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


def _load(conn: psycopg.Connection, feed: str, day: date, folder: Path, manifest: Manifest) -> BatchResult:
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
    batch = _Batch(conn, feed, day, dict(zip(parts, sizes, strict=True)))
    files: list[FileResult] = []
    for ff in files_of:
        mf = manifest.file(ff.name)
        if mf is None:
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
    return BatchResult(feed, day, "loaded", files, replaced=prior == "loaded")


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


def _record_load(conn: psycopg.Connection, res: BatchResult, manifest: Manifest) -> None:
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
    loaded is not loaded again (status 'skipped'). Up to `workers` batches load
    at the same time, each on its own connection, taken in date order from one
    queue: batches are independent (each replaces only its own day's rows in
    month partitions that exist before it starts), so two days of the same feed
    may load at once.
    """
    chosen = [f for f in c.FEEDS if f in set(feeds or c.FEEDS)]
    queue: list[tuple[str, date]] = []
    for feed in chosen:
        present = set(batch_dates(landing, feed))
        day = start
        while day <= end:
            if not only_present or day in present:
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
                if conn is None:
                    conn = _session(url)
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

    n = max(1, min(workers, len(queue)))
    if n == 1:
        results = worker()
    else:
        with ThreadPoolExecutor(n) as pool:
            futures = [pool.submit(worker) for _ in range(n)]
            results = [res for fut in futures for res in fut.result()]
    return sorted(results, key=lambda res: (order[res.feed], res.batch_date))
