"""Server side of loading one file: COPY into the month partition, set-based
validation, exact duplicates, and the balance check (docs in ggzy.feeds.load).

- The client streams a file's records (ggzy.feeds.stream) to `COPY ... FROM
  STDIN` straight into the month partition; the partition fills `_batch_date`,
  `_file` and `_loaded_at` itself.
- JSONL lines are COPYed as one text field each into a session temp table and
  parsed ONCE (`doc::jsonb`) into the partition inside a savepoint; only if some
  line is not JSON does the slower per-line `pg_input_is_valid` path run. Lines
  reach the parser only within the nesting and size limits (stream.py).
- Validation is one prepared statement per file (one generic plan per contract
  file and month), generated from the contract (ggzy.feeds.rules): costly checks
  once per distinct value, cheap ones per row, each as a flag column of one scan.
  It reads only this file's rows: the pages the partition grew by (a TID range
  scan from its size before the COPY); if the rows counted there are fewer than
  the rows stored (the heap reused free space of earlier pages), the rest of the
  day's rows are validated too. Failing rows are moved to raw.quarantine with rule
  and message and deleted by ctid.
- Exact duplicate rows are found with a Bloom filter on the client and confirmed
  exactly on the server.
- delivered = loaded + quarantined is asserted per file before commit.
"""

from __future__ import annotations

import time
import weakref
from collections import Counter
from contextlib import ExitStack
from datetime import date
from typing import Any

import psycopg
from psycopg import sql

from ggzy.feeds import contract as c
from ggzy.feeds import rules as r
from ggzy.feeds.ledger import FileResult
from ggzy.feeds.manifest import ENCODINGS, BatchRefused, ManifestFile
from ggzy.feeds.raw import partition_name
from ggzy.feeds.stream import BLOCK, CsvStreamer, Dups, JsonlStreamer, Limits, Sink, Spool, Stream, pump, read_header

MAX_EXTRA_COLUMNS = 100  # unknown CSV columns kept in _extra; more is not an export of this contract
DOC_PREFIX = "ggzy_doc_"  # session temp tables for JSONL lines, one per JSONL contract file, emptied at commit
_LAST_PAGE: weakref.WeakKeyDictionary[psycopg.Connection, dict[str, int]] = weakref.WeakKeyDictionary()


def _q(name: str) -> str:
    return sql.Identifier(name).as_string(None)


def _results(cur: psycopg.Cursor) -> list[list[tuple]]:
    """Rows of every statement of a multi-statement execute (empty for commands)."""
    out = []
    while True:
        out.append(cur.fetchall() if cur.description else [])
        if not cur.nextset():
            return out



class Batch:
    """State shared by the files of one batch (one transaction)."""

    def __init__(self, conn: psycopg.Connection, feed: str, day: date, sizes: dict[str, int]) -> None:
        self.conn, self.feed, self.day = conn, feed, day
        self.sizes = sizes  # month partition -> its size in pages when the batch began
        self.quarantine: list[tuple[str, Spool]] = []  # client-side bad rows per file: (line, rule, msg, text)


_VALIDATE_SQL: dict[tuple[str, str, str, int], str] = {}  # (table, partition, scope, server version) -> statement


def _sql(text: str, **params: str) -> str:
    """A statement for psycopg with named placeholders: '%' of the text escaped,
    then each {NAME} token replaced by %(name)s (prepared statements: one plan
    per contract file and month, parameters for the rest)."""
    text = text.replace("%", "%%")
    for k, v in params.items():
        text = text.replace("{" + k + "}", f"%({k.lower()})s::{v}")
    return text


class FileLoader:
    """Loads one contract file of a batch inside the batch's transaction. `fh`: the
    file, opened and its sha256 checked (ggzy.feeds.files), positioned at 0."""

    def __init__(self, batch: Batch, ff: c.FeedFile, fh: Any, mf: ManifestFile, limits: Limits) -> None:
        self.b, self.conn, self.ff, self.mf, self.day = batch, batch.conn, ff, mf, batch.day
        self.fh, self.lim = fh, limits
        self.size = getattr(fh, "hashed_size", None)
        self.where = (ff.feed, batch.day, mf.name)
        self.part = partition_name(ff, batch.day)
        self.tq = f"raw.{_q(self.part)}"
        self.version = self.conn.info.server_version
        self.res = FileResult(mf.name, rows_manifest=mf.rows)
        self.start = "(0,0)"  # first page of the month partition this file's rows can be on (see _open)
        self.scope = "_batch_date = {DAY} and ctid >= {START}"  # this file's rows in the month partition
        self.tids = "{}"  # rows of this file stored before page `start` (free space reused), if any
        self._t = time.perf_counter()

    def refuse(self, problem: str, todo: str | None = None) -> BatchRefused:
        return BatchRefused(self.ff.feed, self.day, self.mf.name, problem, todo)

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
        self.res.blank_lines, self.res.bytes, self.res.sha256 = st.blank_lines, st.bytes, self.mf.sha256
        self.res.delivered = st.records
        if self.size is not None and st.bytes != self.size:
            raise self.refuse(f"the file changed while it was loaded ({self.size:,} bytes hashed, {st.bytes:,} read)",
                              "load the batch again once the producer has finished writing it")
        if st.records != self.mf.rows:
            raise self.refuse(f"row count mismatch: manifest says {self.mf.rows} data rows, file has {st.records}",
                              "ask the producer for a manifest that counts the file's data rows "
                              "(header excluded), or for the missing rows")
        self._tick("copy")
        by_rule: Counter[str] = Counter(st.quarantine.by_rule)
        if len(st.quarantine):
            self.b.quarantine.append((self.mf.name, st.quarantine))
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
        self.json_bad = 0
        fh = self.fh
        with fh:
            first = fh.read(BLOCK)
            if not first:  # a zero-byte export: no header, no rows (the manifest must say rows 0)
                self.st = Stream()
                return 0
            names, rest = read_header(first, enc, self.where, self.lim)
            # A column the contract lists is a promise of the export, nullable or not:
            # without it every row would load a NULL there (and pass for "no value").
            missing = [n for n in self.ff.column_names if n not in names]
            if missing:
                raise self.refuse(f"line 1: contract column(s) {', '.join(missing)} missing from the header",
                                  "ask the producer to export every column of the contract (empty values are "
                                  "fine where the contract allows them)")
            known = set(self.ff.column_names)
            extras = [n for n in names if n not in known]
            if len(extras) > MAX_EXTRA_COLUMNS:
                raise self.refuse(f"line 1: {len(extras):,} columns that are not in the contract (at most "
                                  f"{MAX_EXTRA_COLUMNS} are kept in _extra)",
                                  "ask the producer to export the contract's columns")
            self.res.extra_columns = [n[:60] for n in extras]
            self.st = st = Stream(bytes=len(first))
            self.dups = Dups(self.size or BLOCK)
            opts = "format csv"  # UTF-8 always: the streamer transcodes GB18030
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
                    sink = Sink(open_copy)
                    streamer = CsvStreamer(sink, names, enc, self.where, self.dups, st, self.lim)
                    pump(fh, rest, streamer, st, self.lim.line)
                copied = self.copy_cur.rowcount if sink.cp is not None else 0
            except psycopg.Error as e:
                raise self.refuse(f"COPY failed: {_pg_error(e)}") from e
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
        self.json_bad = 0
        fh = self.fh
        with fh:
            first = fh.read(BLOCK)
            self.st = st = Stream(bytes=len(first))
            if first.startswith(b"\xef\xbb\xbf"):  # a UTF-8 BOM (Windows exporters): not part of line 1's JSON
                first = first[3:]
            self.dups = Dups(self.size or BLOCK)
            try:
                with ExitStack() as stack:
                    sink = Sink(lambda: stack.enter_context(self.conn.cursor().copy(
                        f"copy {doc_table} (_line, doc) from stdin (format csv, quote e'\\x01', delimiter e'\\x02')")))
                    streamer = JsonlStreamer(sink, self.dups, st, self.ff.required_columns, self.lim)
                    pump(fh, first, streamer, st, self.lim.line)
            except psycopg.Error as e:
                raise self.refuse(f"COPY failed: {_pg_error(e)}") from e
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
            raise self.refuse(f"required key {sorted(streamer.missing)[0]!r} occurs in no object of the file",
                              "ask the producer to export every required key of the contract")
        self.res.extra_columns = list(extra)
        if copied < st.sent:
            self.json_bad = x(_sql(
                f"insert into raw.quarantine (feed, batch_date, file, line, raw_record, rule, message) "
                f"select {{FEED}}, {{DAY}}, {{FILE}}, d._line, jsonb_build_object('_text', left(d.doc, 10000)), "
                f"{r.lit(r.JSON_SYNTAX)}, format('%s line %s: rule %s: not a JSON object: %s', {{WHERE}}, d._line, "
                f"{r.lit(r.JSON_SYNTAX)}::text, left(d.doc, 80)) from {doc_table} d where not exists "
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
    return msg if len(msg) <= 300 else msg[:297] + "..."  # PostgreSQL quotes at most 100 bytes of a value
