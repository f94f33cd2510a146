"""Load landing batches into raw: manifest check, COPY, set-based validation,
quarantine, partition swap and the batch ledger, in ONE transaction per batch.

Why this shape (measured, see `ggzy bench load`):
- The client streams each file's bytes unchanged to `COPY ... FROM STDIN`
  (csv; tax with ENCODING 'GB18030') straight into a fresh per-batch table,
  hashing the same bytes (sha256) as they go: one read, flat memory.
  `_line` comes from an identity column on the server, so nothing is rewritten
  per row on the client.
- The client still looks at every line with C-speed byte operations (comma and
  quote counts) because COPY fails a whole file on one row with the wrong number
  of fields. Such rows (and blank lines) are replaced in the stream by a
  placeholder row (first field = SENTINEL) and quarantined by the client as
  `column_count`; a record spanning k physical lines (RFC 4180 quoted newline)
  is followed by k-1 placeholders. So identity value == physical line number,
  always, and the server simply deletes placeholders.
- JSONL lines are COPYed as one text field each into a temp table (csv format
  with quote/delimiter bytes that cannot occur in valid JSON) and parsed to
  columns in SQL; lines that are not a JSON object go to quarantine
  (`json_syntax`), unknown keys to `_extra`.
- Validation is SQL generated from the contract (ggzy.feeds.rules): costly
  checks once per distinct value, cheap ones in one scan; failing rows are
  moved to raw.quarantine and deleted by ctid.
- Exact duplicate rows (byte-identical records) are found with a fixed-size
  Bloom filter on the client (flat memory) and confirmed exactly on the server.
- The table is then attached as the partition of its date (a CHECK constraint
  created with the table spares ATTACH the scan); the previous delivery's
  partition of that date is dropped in the same transaction.
- delivered = loaded + quarantined is asserted per file before commit.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import repeat
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from ggzy import db
from ggzy.feeds import contract as c
from ggzy.feeds import rules as r
from ggzy.feeds.manifest import ENCODINGS, BatchRefused, Manifest, ManifestFile, batch_dir, read_manifest
from ggzy.feeds.raw import partition_name

BLOCK = 1 << 20  # bytes read per step; memory stays flat whatever the file size
SENTINEL = "\x1fggzy:placeholder\x1f"  # first field of a placeholder row (never real data)
MAX_RECORD_LINES = 10_000  # an unterminated quote would otherwise swallow the file
_CTRL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\r(?!\n)")  # cannot occur in a valid JSON line
_BLANK = re.compile(rb"(?m)^[ \t\r]*$")

__all__ = ["BatchRefused", "BatchResult", "FileResult", "load_batch", "load_range"]


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
    status: str  # loaded | refused
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
    """Fixed-size Bloom filter (2 hashes, 2^28 bits = 32 MiB) over record bytes.

    A hit only makes a *candidate*; the server confirms exact duplicates, so a
    false positive costs a lookup, never a wrongly quarantined row.
    """

    BITS = 1 << 28

    def __init__(self) -> None:
        import numpy as np

        self.np = np
        self.bitmap = np.zeros(self.BITS // 8, dtype=np.uint8)
        self.candidates: list[int] = []

    def add(self, records: list[bytes], lines: Iterable[int] | int) -> None:
        """`lines`: the line of each record, or the line of the first when consecutive."""
        np = self.np
        n = len(records)
        if not n:
            return
        h = np.fromiter(map(hash, records), dtype=np.int64, count=n).view(np.uint64)
        mask = np.uint64(self.BITS - 1)
        i1 = h & mask
        i2 = (h >> np.uint64(29)) & mask
        b1, b2 = (i1 >> np.uint64(3)).astype(np.intp), (i2 >> np.uint64(3)).astype(np.intp)
        m1, m2 = np.left_shift(1, (i1 & np.uint64(7)).astype(np.uint8)).astype(np.uint8), \
            np.left_shift(1, (i2 & np.uint64(7)).astype(np.uint8)).astype(np.uint8)
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

    records: int = 0
    blank_lines: int = 0
    bytes: int = 0
    sha256: str = ""
    quarantine: list[tuple[int, str, str, str]] = field(default_factory=list)  # line, rule, message, text
    candidates: list[int] = field(default_factory=list)


class _CsvStreamer:
    """Forwards CSV bytes to COPY, keeping identity value == physical line."""

    def __init__(self, copy: Any, want: int, encoding: str, crlf: bool, where: str, dups: _Dups) -> None:
        self.copy, self.want, self.enc, self.where, self.dups = copy, want, encoding, where, dups
        self.commas = want - 1
        eol = b"\r\n" if crlf else b"\n"
        self.placeholder = SENTINEL.encode("ascii") + b"," * (want - 1) + eol
        self.line = 1  # header
        self.pending: list[bytes] | None = None
        self.pending_start = 0
        self.st = _Stream()

    def body(self, data: bytes) -> None:
        """`data`: complete lines (ends with b'\\n')."""
        if self.pending is None and b'"' not in data:
            lines = data.split(b"\n")
            lines.pop()
            n = len(lines)
            if list(map(bytes.count, lines, repeat(b","))).count(self.commas) == n:
                self.copy.write(data)
                self.dups.add(lines, self.line + 1)
                self.line += n
                self.st.records += n
                return
        self._slow(data)

    def _slow(self, data: bytes) -> None:
        out: list[bytes] = []
        recs: list[bytes] = []
        rec_lines: list[int] = []
        lines = data.split(b"\n")
        lines.pop()
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
            if ln == b"" or ln == b"\r":
                self.st.blank_lines += 1
                out.append(self.placeholder)
                continue
            self._record([ln], self.line, out, recs, rec_lines, q == 0)
        self.copy.write(b"".join(out))
        self.dups.add(recs, rec_lines)

    def _record(self, lines: list[bytes], start: int, out: list[bytes], recs: list[bytes],
                rec_lines: list[int], simple: bool = False) -> None:
        self.st.records += 1
        raw = b"\n".join(lines)
        if simple:
            nf = raw.count(b",") + 1
        else:
            rows = list(csv.reader(io.StringIO(raw.decode(self.enc, "replace"), newline="")))
            nf = len(rows[0]) if len(rows) == 1 else -1
        if nf == self.want:
            out.append(raw + b"\n")
            recs.append(raw)
            rec_lines.append(start)
            out.extend(repeat(self.placeholder, len(lines) - 1))
        else:
            text = raw.decode(self.enc, "replace")
            found = f"{nf} fields" if nf >= 0 else "a malformed record"
            self.st.quarantine.append((start, r.COLUMN_COUNT,
                                       f"{found}, the header has {self.want}", text))
            out.extend(repeat(self.placeholder, len(lines)))

    def _unterminated(self) -> BatchRefused:
        feed, day, file = self.where
        return BatchRefused(feed, day, file, f"line {self.pending_start}: quoted field never closed "
                            f"(rule {r.COLUMN_COUNT}); cannot tell where the record ends")

    def finish(self) -> None:
        if self.pending is not None:
            raise self._unterminated()


class _JsonlStreamer:
    """Forwards JSONL lines to COPY (one text field per line); blank lines become
    NULL placeholders, lines with raw control characters are quarantined here."""

    def __init__(self, copy: Any, crlf: bool, dups: _Dups) -> None:
        self.copy, self.dups = copy, dups
        self.eol = b"\r\n" if crlf else b"\n"
        self.line = 0
        self.st = _Stream()

    def body(self, data: bytes) -> None:
        lines = data.split(b"\n")
        lines.pop()
        if not _CTRL.search(data) and not _BLANK.search(data, 0, len(data) - 1):
            self.copy.write(data)
            self.dups.add(lines, self.line + 1)
            self.line += len(lines)
            self.st.records += len(lines)
            return
        out: list[bytes] = []
        recs: list[bytes] = []
        rec_lines: list[int] = []
        for ln in lines:
            self.line += 1
            if not ln.strip():
                self.st.blank_lines += 1
                out.append(self.eol)
                continue
            self.st.records += 1
            if _CTRL.search(ln.rstrip(b"\r")):
                self.st.quarantine.append((self.line, r.JSON_SYNTAX, "raw control character in the line (not valid JSON)",
                                           ln.decode("utf-8", "replace")))
                out.append(self.eol)
                continue
            out.append(ln + b"\n")
            recs.append(ln)
            rec_lines.append(self.line)
        self.copy.write(b"".join(out))
        self.dups.add(recs, rec_lines)

    def finish(self) -> None:
        pass


def _pump(fh: Any, first: bytes, h: Any, streamer: _CsvStreamer | _JsonlStreamer, st: _Stream) -> None:
    """Feed complete lines to the streamer, block by block (the hash is updated by the caller)."""
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


def _read_header(first: bytes, enc: str, where: tuple[str, date, str]) -> tuple[list[str], bytes, bool]:
    feed, day, file = where
    cut = first.find(b"\n")
    if cut < 0:
        raise BatchRefused(feed, day, file, "line 1: no complete header line")
    raw = first[:cut]
    crlf = raw.endswith(b"\r")
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
    return names, first[cut + 1:], crlf


class _FileLoader:
    def __init__(self, conn: psycopg.Connection, ff: c.FeedFile, folder: Path, mf: ManifestFile,
                 batch_date: date) -> None:
        self.conn, self.ff, self.mf, self.day = conn, ff, mf, batch_date
        self.path = folder / mf.name
        self.where = (ff.feed, batch_date, mf.name)
        self.table = f"{partition_name(ff, batch_date)}_new"
        self.tq = f"raw.{_q(self.table)}"
        self.version = conn.info.server_version
        self.res = FileResult(mf.name, rows_manifest=mf.rows)
        self.json_bad = 0  # JSONL lines that are not a JSON object (found in SQL)
        self.skip = "false"  # SQL: is this row a placeholder (see SENTINEL)

    def refuse(self, problem: str) -> BatchRefused:
        return BatchRefused(self.ff.feed, self.day, self.mf.name, problem)

    def run(self) -> FileResult:
        x = self.conn.execute
        x(f"create table {self.tq} (like raw.{_q(self.ff.table)}, "
          f"constraint {_q(self.table + '_date')} check (_batch_date = {r.lit(self.day.isoformat())}::date))")
        x(f"alter table {self.tq} alter _batch_date set default {r.lit(self.day.isoformat())}::date, "
          f"alter _file set default {r.lit(self.mf.name)}, alter _loaded_at set default now()")
        dups = _Dups()
        tick = self._tick
        tick()
        st = self._copy_jsonl(dups) if self.ff.fmt == c.JSONL else self._copy_csv(dups)
        tick("copy")
        self.res.blank_lines, self.res.bytes, self.res.sha256 = st.blank_lines, st.bytes, st.sha256
        self.res.delivered = st.records
        if st.sha256 != self.mf.sha256:
            raise self.refuse(f"sha256 mismatch: manifest {self.mf.sha256}, file {st.sha256}")
        if st.records != self.mf.rows:
            raise self.refuse(f"row count mismatch: manifest says {self.mf.rows} data rows, file has {st.records}")
        by_rule: Counter[str] = Counter()
        self._client_quarantine(st.quarantine)
        by_rule.update(q[1] for q in st.quarantine)
        by_rule[r.JSON_SYNTAX] += self.json_bad
        by_rule.update(self._validate())
        tick("validate")
        by_rule[r.DUPLICATE_ROW] += self._duplicates(dups.candidates)
        tick("duplicates")
        self.res.quarantined_by_rule = {k: v for k, v in sorted(by_rule.items()) if v}
        self.res.loaded = x(f"select count(*) from {self.tq}").fetchone()[0]
        if self.res.delivered != self.res.loaded + self.res.quarantined:
            raise self.refuse(f"rows do not balance: delivered {self.res.delivered} != loaded {self.res.loaded} "
                              f"+ quarantined {self.res.quarantined} (loader bug; nothing loaded)")
        final = partition_name(self.ff, self.day)
        x(f"alter table {self.tq} alter _line drop identity if exists, alter _batch_date drop default, "
          f"alter _file drop default, alter _loaded_at drop default")
        x(f"drop table if exists raw.{_q(final)}")
        x(f"alter table {self.tq} rename to {_q(final)}")
        x(f"alter table raw.{_q(self.ff.table)} attach partition raw.{_q(final)} "
          f"for values in ({r.lit(self.day.isoformat())})")
        tick("attach")
        return self.res

    def _tick(self, phase: str | None = None) -> None:
        now = time.perf_counter()
        if phase:
            self.res.seconds[phase] = self.res.seconds.get(phase, 0.0) + now - self._t
        self._t = now

    # -- COPY ------------------------------------------------------------------

    def _copy_csv(self, dups: _Dups) -> _Stream:
        enc = ENCODINGS[self.ff.fmt]
        h = hashlib.sha256()
        with open(self.path, "rb") as fh:
            first = fh.read(BLOCK)
            h.update(first)
            names, rest, crlf = _read_header(first, enc, self.where)
            missing = [n for n in self.ff.required_columns if n not in names]
            if missing:
                raise self.refuse(f"line 1: required column(s) {', '.join(missing)} missing from the header "
                                  f"(header: {', '.join(names)})")
            known = set(self.ff.column_names)
            extras = [n for n in names if n not in known]
            self.res.extra_columns = extras
            xcols = {n: f"_x{i}" for i, n in enumerate(extras, 1)}
            for n in extras:
                self.conn.execute(f"alter table {self.tq} add column {_q(xcols[n])} text")
            target = [xcols.get(n, n) for n in names]
            self.conn.execute(f"alter table {self.tq} alter _line add generated by default as identity (start 2)")
            cols = ", ".join(map(_q, target))
            opts = f"format csv, freeze, force_null ({cols})"
            if enc != "utf-8":
                opts += ", encoding 'GB18030'"
            st = _Stream()
            st.bytes = len(first)
            try:
                with self.conn.cursor() as cur, cur.copy(f"copy {self.tq} ({cols}) from stdin ({opts})") as cp:
                    streamer = _CsvStreamer(cp, len(names), enc, crlf, self.where, dups)
                    streamer.st = st
                    _pump(fh, rest, h, streamer, st)
            except psycopg.Error as e:
                raise self.refuse(f"COPY failed: {_pg_error(e)}") from e
        st.sha256 = h.hexdigest()
        st.candidates = dups.candidates
        if extras:
            pairs = ", ".join(f"{r.lit(n)}, {_q(xcols[n])}" for n in extras)
            self.conn.execute(f"update {self.tq} set _extra = nullif(jsonb_strip_nulls(jsonb_build_object({pairs})), "
                              f"'{{}}'::jsonb)")
            self.conn.execute(f"alter table {self.tq} " + ", ".join(f"drop column {_q(xcols[n])}" for n in extras))
        if target[0] in known:
            self.skip = f"coalesce({_q(target[0])} = {r.lit(SENTINEL)}, false)"
        else:
            self.skip = f"coalesce(_extra ->> {r.lit(names[0])} = {r.lit(SENTINEL)}, false)"
        return st

    def _copy_jsonl(self, dups: _Dups) -> _Stream:
        tmp = f"pg_temp.{_q(self.table + '_doc')}"
        x = self.conn.execute
        x(f"create temp table {tmp} (doc text, _line integer generated by default as identity) on commit drop")
        h = hashlib.sha256()
        st = _Stream()
        with open(self.path, "rb") as fh:
            first = fh.read(BLOCK)
            h.update(first)
            st.bytes = len(first)
            crlf = first.split(b"\n", 1)[0].endswith(b"\r")
            try:
                with self.conn.cursor() as cur, cur.copy(
                        f"copy {tmp} (doc) from stdin (format csv, quote e'\\x01', delimiter e'\\x02')") as cp:
                    streamer = _JsonlStreamer(cp, crlf, dups)
                    streamer.st = st
                    _pump(fh, first, h, streamer, st)
            except psycopg.Error as e:
                raise self.refuse(f"COPY failed: {_pg_error(e)}") from e
        st.sha256 = h.hexdigest()
        names = self.ff.column_names
        parse = "case when pg_input_is_valid(doc, 'jsonb') then doc::jsonb end" if self.version >= 160000 \
            else "raw.try_jsonb(doc)"
        cols = ", ".join(map(_q, names))
        vals = ", ".join(f"nullif(j ->> {r.lit(n)}, '')" for n in names)
        keys = r.lit("{" + ",".join(f'"{n}"' for n in names) + "}")
        x(f"insert into {self.tq} ({cols}, _line, _extra) "
          f"select {vals}, _line, nullif(j - {keys}::text[], '{{}}'::jsonb) "
          f"from (select _line, {parse} as j from {tmp} where doc is not null) s where jsonb_typeof(j) = 'object'")
        bad = x(f"insert into raw.quarantine (feed, batch_date, file, line, raw_record, rule, message) "
                f"select %s, %s, %s, d._line, jsonb_build_object('_text', left(d.doc, 10000)), %s, "
                f"format('%%s line %%s: rule %%s: not a JSON object: %%s', %s::text, d._line, %s::text, left(d.doc, 200)) "
                f"from {tmp} d where d.doc is not null and not exists "
                f"(select 1 from {self.tq} t where t._line = d._line)",
                (self.ff.feed, self.day, self.mf.name, r.JSON_SYNTAX, self._where_text(), r.JSON_SYNTAX)).rowcount
        loaded_objects = st.records - len(st.quarantine) - bad
        if loaded_objects > 0:
            for n in self.ff.required_columns:
                found = x(f"select exists (select 1 from {tmp} where doc like %s)", (f'%"{n}"%',)).fetchone()[0]
                if not found:
                    raise self.refuse(f"required key {n!r} occurs in no object of the file")
        extra = x(f"select array(select distinct jsonb_object_keys(_extra) from {self.tq} "
                  f"where _extra is not null order by 1)").fetchone()[0]
        self.res.extra_columns = list(extra)
        self.json_bad = bad
        self.skip = "false"
        return st

    # -- validation ------------------------------------------------------------

    def _where_text(self) -> str:
        return f"{self.ff.feed}/{self.day.isoformat()} {self.mf.name}"

    def _client_quarantine(self, rows: list[tuple[int, str, str, str]]) -> None:
        if not rows:
            return
        with self.conn.cursor() as cur, cur.copy(
                "copy raw.quarantine (feed, batch_date, file, line, raw_record, rule, message) from stdin") as cp:
            for line, rule, msg, text in rows:
                cp.write_row((self.ff.feed, self.day, self.mf.name, line, Jsonb({"_text": text[:10000]}), rule,
                              f"{self._where_text()} line {line}: rule {rule}: {msg}"))

    def _record_expr(self) -> str:
        pairs = ", ".join(f"{r.lit(n)}, {_q(n)}" for n in self.ff.column_names)
        return f"(jsonb_build_object({pairs}) || coalesce(_extra, '{{}}'::jsonb))"

    def _validate(self) -> Counter[str]:
        """Move rows failing a contract check to quarantine; returns counts by rule."""
        x = self.conn.execute
        checks = r.checks(self.ff, self.version)
        bad_values: dict[int, list[str]] = {}
        distinct = [(i, ch) for i, ch in enumerate(checks) if ch.per_distinct]
        if distinct:
            values = ", ".join(f"({i}, {_q(ch.column)})" for i, ch in distinct)
            cases = " ".join(f"when {i} then {ch.ok('v')}" for i, ch in distinct)
            for i, v in x(f"select k, v from (select distinct k, v from {self.tq} "
                          f"cross join lateral (values {values}) t(k, v) where v is not null offset 0) d "
                          f"where not coalesce(case k {cases} end, false)"):
                bad_values.setdefault(i, []).append(v)
        oks: list[tuple[r.Check, str]] = []
        for i, ch in enumerate(checks):
            if not ch.per_distinct:
                oks.append((ch, ch.ok()))
            elif i in bad_values:
                col = _q(ch.column)
                oks.append((ch, f"({col} is null or {col} <> all({r.lit(bad_values[i])}::text[]))"))
        skip = self.skip
        if not oks:
            cond, rules_arr, msgs_arr = skip, "array[]::text[]", "array[]::text[]"
        else:
            cond = " or ".join([skip] + [f"not coalesce({ok}, false)" for _, ok in oks])
            rules_arr = "array_remove(array[" + ", ".join(
                f"case when not coalesce({ok}, false) then {r.lit(ch.rule)} end" for ch, ok in oks) + "], null)"
            msgs_arr = "array_remove(array[" + ", ".join(
                f"case when not coalesce({ok}, false) then format('column %s = %s: %s', {r.lit(ch.column)}, "
                f"coalesce(quote_literal(left({_q(ch.column)}, 200)), 'empty'), {r.lit(ch.describe)}) end"
                for ch, ok in oks) + "], null)"
        sql_text = f"""
            with bad as materialized (
                select ctid as tid, _line, ({skip}) as skip, {rules_arr} as rules, {msgs_arr} as msgs,
                       {self._record_expr()} as rec
                from {self.tq} where {cond}
            ), q as (
                insert into raw.quarantine (feed, batch_date, file, line, raw_record, rule, message)
                select {r.lit(self.ff.feed)}, {r.lit(self.day)}::date, {r.lit(self.mf.name)}, _line, rec,
                       coalesce(rules[1], 'unknown'),
                       format('%s line %s: rule %s: %s', {r.lit(self._where_text())}::text, _line, rules[1],
                              array_to_string(msgs, '; '))
                from bad where not skip
                returning rule
            ), d as (
                delete from {self.tq} where ctid = any(array(select tid from bad)) returning 1
            )
            select (select count(*) from d), (select count(*) from bad where skip),
                   coalesce((select jsonb_object_agg(rule, n) from (select rule, count(*) n from q group by rule) s),
                            '{{}}'::jsonb)
        """
        deleted, skipped, counts = x(sql_text.encode()).fetchone()  # bytes: no client-side placeholders
        out: Counter[str] = Counter(counts)
        if deleted != skipped + sum(counts.values()):
            raise self.refuse(f"validation moved {sum(counts.values())} rows to quarantine but deleted {deleted} "
                              f"(loader bug; nothing loaded)")
        return out

    def _duplicates(self, candidates: list[int]) -> int:
        """Quarantine rows identical (all delivered values) to an earlier row of the file."""
        if not candidates:
            return 0
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
        cur = self.conn.execute(sql_text.encode())
        return cur.rowcount


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


def load_batch(feed: str, batch_date: date, landing: Path | str, url: str | None = None) -> BatchResult:
    """Load one batch `<landing>/<feed>/<YYYY-MM-DD>/` in one transaction.

    Returns the BatchResult of a loaded batch. Raises BatchRefused (after
    recording the refusal in raw.batches / raw.batch_events) when the batch does
    not match its manifest or the contract; raw is then unchanged.
    """
    if feed not in c.FEEDS:
        raise ValueError(f"unknown feed {feed!r}; feeds are {', '.join(c.FEEDS)}")
    t0 = time.monotonic()
    folder = batch_dir(Path(landing), feed, batch_date)
    manifest: Manifest | None = None
    with db.connect(url) as conn:
        try:
            manifest = read_manifest(folder, feed, batch_date)
            with conn.transaction():
                conn.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (_lock_key(feed, batch_date),))
                prior = conn.execute("select status from raw.batches where feed = %s and batch_date = %s",
                                     (feed, batch_date)).fetchone()
                replaced = bool(prior and prior[0] == "loaded")
                conn.execute("delete from raw.quarantine where feed = %s and batch_date = %s", (feed, batch_date))
                files: list[FileResult] = []
                for ff in c.files_of(feed):
                    mf = manifest.file(ff.name)
                    if mf is None:
                        conn.execute(f"drop table if exists raw.{_q(partition_name(ff, batch_date))}")
                        files.append(FileResult(ff.name, absent=True))
                        continue
                    files.append(_FileLoader(conn, ff, folder, mf, batch_date).run())
                res = BatchResult(feed, batch_date, "loaded", files, replaced=replaced,
                                  seconds=time.monotonic() - t0)
                _record_load(conn, res, manifest)
            return res
        except BatchRefused as e:
            _record_refusal(conn, e, manifest, time.monotonic() - t0)
            raise


def _record_load(conn: psycopg.Connection, res: BatchResult, manifest: Manifest) -> None:
    duration = timedelta(seconds=res.seconds)
    conn.execute(
        """insert into raw.batches as b (feed, batch_date, status, produced_at, manifest, rows_delivered, rows_loaded,
                                    rows_quarantined, refusal, deliveries, loaded_at, duration)
           values (%s, %s, 'loaded', %s, %s, %s, %s, %s, null, 1, now(), %s)
           on conflict (feed, batch_date) do update set
               status = 'loaded', produced_at = excluded.produced_at, manifest = excluded.manifest,
               rows_delivered = excluded.rows_delivered, rows_loaded = excluded.rows_loaded,
               rows_quarantined = excluded.rows_quarantined, refusal = null,
               deliveries = b.deliveries + 1, loaded_at = excluded.loaded_at, duration = excluded.duration""",
        (res.feed, res.batch_date, manifest.produced_at, Jsonb(manifest.raw), res.delivered, res.loaded,
         res.quarantined, duration))
    conn.execute("delete from raw.batch_files where feed = %s and batch_date = %s", (res.feed, res.batch_date))
    with conn.cursor() as cur:
        cur.executemany(
            """insert into raw.batch_files (feed, batch_date, file, rows_manifest, rows_delivered, rows_loaded,
                   rows_quarantined, quarantined_by_rule, extra_columns, blank_lines, bytes, sha256)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            [(res.feed, res.batch_date, f.name, f.rows_manifest, f.delivered, f.loaded, f.quarantined,
              Jsonb(f.quarantined_by_rule), f.extra_columns, f.blank_lines, f.bytes, f.sha256)
             for f in res.files if not f.absent])
    conn.execute(
        """insert into raw.batch_events (feed, batch_date, event, message, rows_delivered, rows_loaded,
               rows_quarantined, duration, manifest) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (res.feed, res.batch_date, "reloaded" if res.replaced else "loaded",
         f"quarantined by rule: {res.quarantined_by_rule}" if res.quarantined else None,
         res.delivered, res.loaded, res.quarantined, duration, Jsonb(manifest.raw)))


def _record_refusal(conn: psycopg.Connection, e: BatchRefused, manifest: Manifest | None, seconds: float) -> None:
    """Refusals are written in their own transaction: the load itself rolled back."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.rollback()
    raw_manifest = Jsonb(manifest.raw) if manifest else None
    with conn.transaction():
        conn.execute(
            """insert into raw.batches as b (feed, batch_date, status, produced_at, manifest, refusal,
                                        last_refusal, last_refused_at, deliveries, loaded_at)
               values (%s, %s, 'refused', %s, %s, %s, %s, now(), 0, now())
               on conflict (feed, batch_date) do update set
                   last_refusal = excluded.last_refusal, last_refused_at = excluded.last_refused_at,
                   refusal = case when b.status = 'refused' then excluded.refusal else b.refusal end,
                   manifest = case when b.status = 'refused' then excluded.manifest else b.manifest end""",
            (e.feed, e.batch_date, manifest.produced_at if manifest else None, raw_manifest, str(e), str(e)))
        conn.execute(
            """insert into raw.batch_events (feed, batch_date, event, file, message, duration, manifest)
               values (%s, %s, 'refused', %s, %s, %s, %s)""",
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
               only_present: bool = True) -> list[BatchResult]:
    """Load every batch of [start, end] (feeds in contract order, dates ascending).

    A refused batch does not stop the run: it is returned as a BatchResult with
    status 'refused' and the reason. With only_present, dates without a batch
    folder are skipped (a missing day is visible in raw.batches as a gap).
    """
    results = []
    for feed in feeds or c.FEEDS:
        present = set(batch_dates(landing, feed))
        day = start
        while day <= end:
            if not only_present or day in present:
                try:
                    res = load_batch(feed, day, landing, url)
                except BatchRefused as e:
                    res = BatchResult(feed, day, "refused", refusal=str(e))
                results.append(res)
                if on_result:
                    on_result(res)
            day += timedelta(days=1)
    return results
