"""Client side of the loader: files streamed to COPY, and the row rules that are
checked on bytes before anything reaches PostgreSQL.

Each record goes out prefixed with its physical line number (`_line`), in bulk per
block of complete lines (split, count, join: C-level calls, no per-field work in
the common case). Rows are set aside here (never sent) and quarantined when:
- the number of fields differs from the header (COPY would refuse the whole file);
- a byte sequence is not valid in the file's encoding (UTF-8, or GB18030 for the
  tax feed), or a NUL byte occurs: rule `encoding`, that row only, its own line;
- a line is longer than GGZY_MAX_LINE_BYTES or a value longer than
  GGZY_MAX_FIELD_BYTES: rule `too_long`. An over-long line is never held in
  memory: its bytes are dropped as they are read, up to its line end;
- a JSON line is nested deeper than GGZY_MAX_JSON_DEPTH: rule `json_depth`
  (PostgreSQL's JSON parser would stop with "stack depth limit exceeded").
So the server receives only records within the limits, in UTF-8 (GB18030 is
transcoded here): its work and memory per row are bounded too.

The checks cost little on ordinary blocks: a block is first tested as a whole
(one decode, one NUL search, the longest line, bracket counts) and only a block
that fails a test is looked at line by line.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate, repeat
from operator import add
from typing import Any

from ggzy import config
from ggzy.feeds import rules as r
from ggzy.feeds.manifest import BatchRefused

BLOCK = 1 << 20  # bytes read per step; memory stays flat whatever the file size
MAX_RECORD_LINES = 10_000  # an unterminated quote would otherwise swallow the file
TEXT_KEPT = 10_000  # characters of a client-side quarantined row kept in raw.quarantine.raw_record
_CTRL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\r(?!\n)")  # cannot occur in a valid JSON line
_BLANK = re.compile(rb"(?m)^[ \t\r]*$")
_QUOTED = re.compile(rb'"[^"]*"')  # a quoted stretch: its commas do not separate fields (as in COPY's CSV parser)
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(rb"[\[\]{}]")
ENCODING_NAME = {"utf-8": "UTF-8", "gb18030": "GB18030"}

Quarantined = tuple[int, str, str, str]  # line, rule, message, text of the row


@dataclass(frozen=True)
class Limits:
    line: int
    field: int
    depth: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(config.max_line_bytes(), config.max_field_bytes(), config.max_json_depth())

    def line_msg(self, n: int | None = None) -> str:
        size = f"of {n:,} bytes" if n is not None else "longer than the limit"
        return f"line {size}; the limit is GGZY_MAX_LINE_BYTES = {self.line:,} bytes"


def row_text(raw: bytes, encoding: str = "utf-8") -> str:
    """A rejected row as stored in raw.quarantine: shortened, undecodable bytes as
    \\xNN, NUL as \\x00 (jsonb cannot hold U+0000)."""
    return raw[: TEXT_KEPT * 4].decode(encoding, "backslashreplace")[:TEXT_KEPT].replace("\x00", "\\x00")


def bad_bytes(ln: bytes, encoding: str) -> str | None:
    """Why a line's bytes cannot be text of the file's encoding, or None."""
    i = ln.find(b"\x00")
    if i >= 0:
        return f"NUL byte at byte {i + 1} of the line"
    try:
        ln.decode(encoding)
    except UnicodeDecodeError as e:
        return f"bytes not valid {ENCODING_NAME.get(encoding, encoding)} at byte {e.start + 1} of the line"
    return None


def json_depth(ln: bytes) -> int:
    """Deepest nesting of objects/arrays in a JSON text (brackets inside strings do not count)."""
    brackets = _BRACKET.findall(_JSON_STRING.sub(b"", ln))
    return max(accumulate(1 if b in (b"{", b"[") else -1 for b in brackets), default=0)


def longest_json_value(ln: bytes) -> int:
    """Bytes of the longest string (key or value) in a JSON text; 0 if it does not
    parse (the server then quarantines it as json_syntax)."""
    try:
        doc = json.loads(ln)
    except (ValueError, RecursionError):
        return 0
    longest = 0
    stack = [doc]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            longest = max(longest, len(v.encode()))
        elif isinstance(v, dict):
            longest = max([longest, *(len(k.encode()) for k in v)])
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return longest


class Dups:
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


class Spool:
    """The rows of one file quarantined on the client, counted by rule. Kept in memory
    up to SPOOL_ROWS, then spilled to a temporary file: a file of millions of bad
    lines costs disk, not memory. Written to raw.quarantine when the batch's files
    are loaded (one COPY stream at a time per connection)."""

    SPOOL_ROWS = 2_000

    def __init__(self) -> None:
        self.rows: list[Quarantined] = []
        self.by_rule: Counter[str] = Counter()
        self.spill: Any = None

    def append(self, row: Quarantined) -> None:
        self.by_rule[row[1]] += 1
        self.rows.append(row)
        if len(self.rows) >= self.SPOOL_ROWS:
            if self.spill is None:
                self.spill = tempfile.TemporaryFile()
            self.spill.write(b"".join(json.dumps(x, ensure_ascii=False).encode() + b"\n" for x in self.rows))
            self.rows = []

    def __len__(self) -> int:
        return sum(self.by_rule.values())

    def __iter__(self) -> Iterator[Quarantined]:
        if self.spill is not None:
            self.spill.seek(0)
            for ln in self.spill:
                yield tuple(json.loads(ln))  # type: ignore[misc]
        yield from self.rows

    def close(self) -> None:
        if self.spill is not None:
            self.spill.close()


@dataclass
class Stream:
    """Counters of one streamed file (client side)."""

    records: int = 0  # data records (what the manifest counts)
    sent: int = 0  # records sent to the server
    blank_lines: int = 0
    bytes: int = 0
    quarantine: Spool = field(default_factory=Spool)


class Sink:
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


class CsvStreamer:
    """Forwards CSV records to COPY, each prefixed with its physical line number.

    Per block of complete lines, all in C-level bulk operations (split, count,
    join; ~0.3 s for a scale-1 year): lines without a quote character whose comma
    count is right go out as they are, behind their line number; the others
    (blank lines, rows with a wrong number of fields, ~1 per 100 rows in real
    feeds; quoted fields; bad bytes; long lines) are handled one by one. Rows
    breaking a client-side rule are never sent but quarantined here.
    """

    def __init__(self, sink: Sink, names: list[str], encoding: str, where: tuple[str, date, str], dups: Dups,
                 st: Stream, limits: Limits) -> None:
        self.sink, self.names, self.enc, self.where, self.dups, self.st = sink, names, encoding, where, dups, st
        self.lim = limits
        self.want = len(names)
        self.commas = self.want - 1
        self.transcode = encoding != "utf-8"  # COPY always gets UTF-8
        self.line = 1  # header
        self.pending: list[bytes] | None = None
        self.pending_start = 0
        self.pending_bytes = 0
        self.pending_bad: tuple[str, str] | None = None

    def body(self, data: bytes) -> None:
        """`data`: complete lines (ends with b'\\n')."""
        flags: dict[int, tuple[str, str]] = {}
        clean = b"\x00" not in data
        if clean:
            try:
                text = data.decode(self.enc)
            except UnicodeDecodeError:
                clean = False
            else:
                if self.transcode:
                    data = text.encode()
        crlf = b"\r" in data
        if clean and crlf and self.pending is None and b'"' not in data:
            # CRLF line ends (RFC 4180, Excel): with no quote in the block every
            # CR LF ends a record; COPY gets LF only, so that the last record
            # (often without a line end) and any LF-only line agree with the rest.
            data = data.replace(b"\r\n", b"\n")
            crlf = b"\r" in data
        lines = data.split(b"\n")
        lines.pop()
        if not clean:  # find the lines with bad bytes; transcode the others
            for i, ln in enumerate(lines):
                why = bad_bytes(ln, self.enc)
                if why:
                    flags[i] = (r.ENCODING, why)
                elif self.transcode:
                    lines[i] = ln.decode(self.enc).encode()
        n = len(lines)
        short = len(data) <= min(self.lim.field, self.lim.line) or max(map(len, lines), default=0) <= min(self.lim.field, self.lim.line)
        if self.pending is None and clean and short and not crlf and b'"' not in data:
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
                        self._quarantine(first + i, r.COLUMN_COUNT, f"{cc[i] + 1} fields, the header has {self.want}",
                                         ln)
                start = i + 1
            good = n - len(odd)
            self.sink.write(b"".join(out))
            self.line += n
            self.st.records += good
            self.st.sent += good
            return
        self._slow(lines, flags)

    def _quarantine(self, line: int, rule: str, msg: str, raw: bytes, encoding: str = "utf-8") -> None:
        self.st.quarantine.append((line, rule, msg, row_text(raw, encoding)))

    def _slow(self, lines: list[bytes], flags: dict[int, tuple[str, str]]) -> None:
        """Line by line: quoted fields (commas inside quotes do not count), records
        spanning lines, blank lines, wrong field counts, flagged lines."""
        out: list[bytes] = []
        recs: list[bytes] = []
        rec_lines: list[int] = []
        want, lim = self.want, self.lim
        for i, ln in enumerate(lines):
            self.line += 1
            bad = flags.get(i) if flags else None
            if bad is None and len(ln) > lim.line:
                bad = (r.TOO_LONG, lim.line_msg(len(ln)))
            if self.pending is not None:
                # inside quotes a CR LF is data and stays; _record drops the CR
                # that ends the record
                self.pending.append(ln)
                self.pending_bytes += len(ln)
                if bad and self.pending_bad is None:
                    self.pending_bad = (bad[0], f"line {self.line}: {bad[1]}")
                if ln.count(b'"') % 2:
                    self._record(self.pending, self.pending_start, out, recs, rec_lines, bad=self.pending_bad)
                    self.pending = None
                elif len(self.pending) > MAX_RECORD_LINES or self.pending_bytes > lim.line:
                    raise self._unterminated()
                continue
            q = ln.count(b'"')
            if q % 2:
                self.pending, self.pending_start, self.pending_bytes, self.pending_bad = [ln], self.line, len(ln), bad
                continue
            if ln.endswith(b"\r"):
                ln = ln[:-1]
            if bad is not None:
                self._record([ln], self.line, out, recs, rec_lines, bad=bad)
                continue
            nf = (ln.count(b",") if not q else _QUOTED.sub(b"", ln).count(b",")) + 1
            if nf == want and len(ln) <= lim.field and b"\r" not in ln:  # the common case, inline
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
                rec_lines: list[int], nf: int | None = None, bad: tuple[str, str] | None = None) -> None:
        self.st.records += 1
        raw = b"\n".join(lines)
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if bad is not None:
            self._quarantine(start, bad[0], bad[1], raw, self.enc if bad[0] == r.ENCODING else "utf-8")
            return
        if nf is None:  # a record spanning lines: count its fields as PostgreSQL's CSV parser will
            nf = _QUOTED.sub(b"", raw).count(b",") + 1
        if nf != self.want:
            self._quarantine(start, r.COLUMN_COUNT, f"{nf} fields, the header has {self.want}", raw)
            return
        if b"\r" in raw and b"\r" in _QUOTED.sub(b"", raw):  # COPY would end the record there (old Mac line end)
            self._quarantine(start, r.COLUMN_COUNT, "a carriage return (CR) outside quotes splits the record", raw)
            return
        if len(raw) > self.lim.field:
            try:
                fields = next(csv.reader([raw.decode()]), [])
            except csv.Error:  # a stray CR: COPY decides; sizes then by plain commas
                fields = raw.decode().split(",")
            sizes = [len(f.encode()) for f in fields]
            k = max(range(len(sizes)), key=sizes.__getitem__, default=0)
            if sizes and sizes[k] > self.lim.field:
                name = self.names[k] if k < len(self.names) else f"#{k + 1}"
                self._quarantine(start, r.TOO_LONG, f"column {name} is {sizes[k]:,} bytes; the limit is "
                                 f"GGZY_MAX_FIELD_BYTES = {self.lim.field:,} bytes", raw)
                return
        out.append(b"%d,%b\n" % (start, raw))
        self.st.sent += 1
        recs.append(raw)
        rec_lines.append(start)

    def too_long(self, prefix: bytes) -> None:
        """The next physical line is longer than the line limit; its bytes were dropped."""
        self.line += 1
        self.st.records += 1
        if self.pending is not None:  # the record it belongs to can no longer be delimited: it ends here
            self._quarantine(self.pending_start, r.TOO_LONG, f"line {self.line}: {self.lim.line_msg()}",
                             b"\n".join(self.pending) + b"\n" + prefix)
            self.pending = None
            return
        self._quarantine(self.line, r.TOO_LONG, self.lim.line_msg(), prefix, self.enc)

    def _unterminated(self) -> BatchRefused:
        feed, day, file = self.where
        return BatchRefused(feed, day, file, f"line {self.pending_start}: quoted field never closed "
                            f"(rule {r.COLUMN_COUNT}); cannot tell where the record ends",
                            "ask the producer to fix the quoting (RFC 4180) and re-deliver the batch")

    def finish(self) -> None:
        if self.pending is not None:
            raise self._unterminated()


class JsonlStreamer:
    """Forwards JSONL lines to COPY as `<line>\\x02<text>`; blank lines are not
    records; lines breaking a client-side rule are quarantined here. Also notes
    which required keys occur anywhere in the file (a cheap byte search)."""

    def __init__(self, sink: Sink, dups: Dups, st: Stream, keys: Iterable[str], limits: Limits) -> None:
        self.sink, self.dups, self.st, self.lim = sink, dups, st, limits
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
        n = len(lines)
        lim = self.lim
        fast = not crlf and not _CTRL.search(data) and not _BLANK.search(data, 0, len(data) - 1)
        if fast:
            try:
                data.decode()
            except UnicodeDecodeError:
                fast = False
        if fast and len(data) > lim.field:
            fast = max(map(len, lines), default=0) <= min(lim.field, lim.line)
        if fast and data.count(b"{") + data.count(b"[") > n:  # nesting somewhere (or brackets in strings)
            fast = max(map(add, map(bytes.count, lines, repeat(b"{")), map(bytes.count, lines, repeat(b"["))),
                       default=0) <= lim.depth
        if fast:
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
            bad = self._check(ln)
            if bad:
                self.st.quarantine.append((self.line, bad[0], bad[1], row_text(ln)))
                continue
            out.append(b"%d\x02%b\n" % (self.line, ln))
            recs.append(ln)
            rec_lines.append(self.line)
            self.st.sent += 1
        self.sink.write(b"".join(out))
        self.dups.add(recs, rec_lines)

    def _check(self, ln: bytes) -> tuple[str, str] | None:
        """The client-side rule a JSON line breaks, or None (the server parses it)."""
        lim = self.lim
        why = bad_bytes(ln, "utf-8")
        if why:
            return r.ENCODING, why
        if len(ln) > lim.line:
            return r.TOO_LONG, lim.line_msg(len(ln))
        if _CTRL.search(ln):
            return r.JSON_SYNTAX, "raw control character in the line (not valid JSON)"
        if ln.count(b"{") + ln.count(b"[") > lim.depth and json_depth(ln) > lim.depth:
            return r.JSON_DEPTH, f"nested deeper than GGZY_MAX_JSON_DEPTH = {lim.depth}"
        if len(ln) > lim.field and (n := longest_json_value(ln)) > lim.field:
            return r.TOO_LONG, f"a value of {n:,} bytes; the limit is GGZY_MAX_FIELD_BYTES = {lim.field:,} bytes"
        return None

    def too_long(self, prefix: bytes) -> None:
        self.line += 1
        self.st.records += 1
        self.st.quarantine.append((self.line, r.TOO_LONG, self.lim.line_msg(), row_text(prefix)))

    def finish(self) -> None:
        pass


def pump(fh: Any, first: bytes, streamer: CsvStreamer | JsonlStreamer, st: Stream, max_line: int) -> None:
    """Feed complete lines to the streamer, block by block. A line longer than
    `max_line` is reported to the streamer (with its first bytes) and its bytes are
    dropped as they come: memory stays bounded by max_line + BLOCK."""
    carry = first
    skipping = False  # inside an over-long line, until its line end
    while True:
        if skipping:
            cut = carry.find(b"\n")
            if cut >= 0:
                carry, skipping = carry[cut + 1:], False
            else:
                carry = b""
        if not skipping:
            cut = carry.rfind(b"\n")
            if cut >= 0:
                streamer.body(carry[: cut + 1])
                carry = carry[cut + 1:]
            if len(carry) > max_line:
                streamer.too_long(carry[:200])
                carry, skipping = b"", True
        block = fh.read(BLOCK)
        if not block:
            break
        st.bytes += len(block)
        carry += block
    if carry and not skipping:
        streamer.body(carry + b"\n")
    streamer.finish()


def read_header(first: bytes, enc: str, where: tuple[str, date, str], limits: Limits) -> tuple[list[str], bytes]:
    """The CSV header's column names and the bytes after it. `first`: the file's
    first block (all of it if shorter than BLOCK: then a header without a line end
    is the whole file, as empty exports often are). Refuses the batch when the
    header cannot be read: without it no row can be."""
    feed, day, file = where

    def refuse(problem: str) -> BatchRefused:
        return BatchRefused(feed, day, file, f"line 1: {problem}",
                            "ask the producer to re-export the file with the contract's header line")

    cut = first.find(b"\n")
    if cut < 0 and len(first) < BLOCK:
        cut = len(first)
    if cut < 0 or cut > limits.line:
        raise refuse(f"header longer than {min(BLOCK, limits.line):,} bytes (GGZY_MAX_LINE_BYTES)")
    raw = first[:cut].rstrip(b"\r")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    why = bad_bytes(raw, enc)
    if why:
        raise refuse(f"header: {why}")
    text = raw.decode(enc).removeprefix("\ufeff")
    if text.count('"') % 2:
        raise refuse("header has an unterminated quote")
    try:
        names = [n.strip() for n in next(csv.reader([text]))]
    except csv.Error as e:  # e.g. a CR inside an unquoted header: line ends are LF or CR LF
        raise refuse(f"header cannot be read as CSV ({str(e)[:80]}); line ends must be LF or CR LF") from e
    if any(not n for n in names):
        raise refuse("header has an empty column name")
    dup = [n for n, k in Counter(names).items() if k > 1]
    if dup:
        raise refuse(f"header repeats column(s) {', '.join(d[:60] for d in dup)}")
    return names, first[cut + 1:]
