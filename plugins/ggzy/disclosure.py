"""Publication of the disclosure tables (信息公开) for the website, and the PII scan that
guards it.

Why this shape:
- The website gets files, not database access: every table of schema `disclosure` is
  exported per batch date to CSV (UTF-8 with BOM, so Excel shows Chinese) and XLSX, with
  Chinese headers, under $GGZY_EXPORT_DIR/<date>/, with a manifest of sha256 sums.
- Only a day whose quality gate passed (ops.quality_gate, newest check of the date) is
  published. A refused attempt is recorded in ops.publications with its reason and never
  touches files already published: the previous publication stays what the website serves
  (`latest` points at the newest published date).
- "No personal data" must be checked, not promised: before and after writing, every
  disclosure table and every file is scanned for resident ID numbers (18 digits with a
  valid GB 11643 check digit and birth date; 15-digit old ones), mobile phone numbers,
  long digit runs in account columns, and unmasked names of the natural persons known to
  staging (legal representatives, contacts, linked persons, experts). One hit refuses the
  publication. `scan_for_pii` is the same function the access tests use.
- Chinese headers come from the column comments that dbt persists from the model docs
  (convention: a description starts with its Chinese header, then " — "), so a table
  added to the schema later (e.g. disclosure/sampling/) gets headers by its own docs.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import decimal
import hashlib
import html
import itertools
import json
import os
import re
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from ggzy import config, db, spreadsheet

SCHEMA = "disclosure"
TZ = ZoneInfo(config.TIMEZONE)
_CJK = re.compile(r"[\u3400-\u9fff]")

# ---------------------------------------------------------------------------------------
# Detectors
# ---------------------------------------------------------------------------------------

_ID18 = re.compile(r"(?<![0-9A-Za-z])([1-8][0-9]{16}[0-9Xx])(?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])([1-8][0-9]{14})(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<![0-9])(1[3-9][0-9][- ]?[0-9]{4}[- ]?[0-9]{4})(?![0-9])")
_DIGIT_RUN = re.compile(r"[0-9][0-9 \-]{6,}[0-9]")
_ACCOUNT_COLUMN = re.compile(r"account|acct|bank|card|iban|账户|账号|帐号|卡号", re.IGNORECASE)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        day = dt.date(y, m, d)
    except ValueError:
        return False
    return dt.date(1900, 1, 1) <= day <= dt.date(2100, 12, 31)


def is_resident_id(value: str) -> bool:
    """An 18-character resident ID number (GB 11643): birth date and check digit valid."""
    v = value.upper()
    if not re.fullmatch(r"[0-9]{17}[0-9X]", v):
        return False
    if not _valid_date(int(v[6:10]), int(v[10:12]), int(v[12:14])):
        return False
    total = sum(int(c) * w for c, w in zip(v[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == v[17]


def is_old_resident_id(value: str) -> bool:
    """A 15-digit first-generation ID number: region + YYMMDD + 3 digits."""
    if not re.fullmatch(r"[0-9]{15}", value):
        return False
    return _valid_date(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12]))


def _redact(value: str) -> str:
    """What a finding may show of the value it found: never the whole of it."""
    v = value.strip()
    if len(v) >= 8:
        return v[:3] + "*" * (len(v) - 5) + v[-2:]
    return v[:1] + "*" * max(1, len(v) - 1)


@dataclass(frozen=True)
class Finding:
    """One piece of personal data found where it must not be."""

    where: str  # table (schema.table) or file path
    column: str
    row: int  # 1-based data row (files: line number incl. header)
    kind: str  # id_number | old_id_number | phone | account | person_name
    sample: str  # redacted

    def __str__(self) -> str:
        return f"{self.where} row {self.row} column {self.column!r}: {self.kind} ({self.sample})"


@dataclass
class NameIndex:
    """Natural persons' names known to staging, and the company names that may contain
    them by coincidence (a cell equal to a known company name is not a person)."""

    persons: set[str] = field(default_factory=set)
    companies: set[str] = field(default_factory=set)

    @property
    def lengths(self) -> list[int]:
        # computed once per index: find() runs for every Chinese text cell of every table
        # and file, and re-sorting ~25k names each time made publication quadratic
        cached = self.__dict__.get("_lengths")
        if cached is None or cached[0] != len(self.persons):
            cached = (len(self.persons), sorted({len(n) for n in self.persons if len(n) >= 3}))
            self.__dict__["_lengths"] = cached
        return cached[1]

    def find(self, text: str) -> str | None:
        t = text.strip()
        if not t or t in self.companies:
            return None
        if t in self.persons:
            return t
        if not _CJK.search(t):
            return None
        # Full names of 3+ characters inside longer text (张建国 in "对张建国处以警告").
        # Two-character names are matched only as whole cells: inside free text they
        # are too often ordinary words to decide automatically.
        for n in self.lengths:
            for i in range(len(t) - n + 1):
                s = t[i : i + n]
                if s in self.persons:
                    return s
        return None


def load_person_names(conn: psycopg.Connection) -> NameIndex:
    """Person names from staging (legal_rep_name, contact_name, linked_name of persons,
    expert_name), and company names. Tables not built yet are skipped."""
    idx = NameIndex()
    person_sql = {
        "staging.stg_trading_centre__entities": [
            "select legal_rep_name from {t}",
            "select contact_name from {t}",
        ],
        # A linked party is a person unless it is a company shareholder with a USCC;
        # over-collecting here only makes the scan stricter.
        "staging.stg_trading_centre__entity_links": [
            "select linked_name from {t} where link_type <> 'shareholder' or linked_id ~ '^[0-9]{{15}}([0-9]{{2}}[0-9Xx])?$'",
        ],
        "staging.stg_trading_centre__experts": ["select expert_name from {t}"],
    }
    company_sql = {
        "staging.stg_trading_centre__entities": "select entity_name from {t}",
        "staging.stg_credit_china__records": "select entity_name from {t}",
        "staging.stg_tax__taxpayers": "select entity_name from {t}",
    }
    for table, queries in person_sql.items():
        if _exists(conn, table):
            for q in queries:
                for (name,) in conn.execute(q.format(t=table)):
                    if name and name.strip():
                        idx.persons.add(name.strip())
    for table, q in company_sql.items():
        if _exists(conn, table):
            for (name,) in conn.execute(q.format(t=table)):
                if name and name.strip():
                    idx.companies.add(name.strip())
    idx.companies -= idx.persons
    return idx


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def scan_value(value: object, column: str, names: NameIndex) -> list[tuple[str, str]]:
    """(kind, matched text) for every piece of personal data in one cell."""
    if value is None or isinstance(value, bool | int | float | decimal.Decimal | dt.date | dt.datetime):
        # Amounts, counts and dates cannot hold an ID number or a name (numbers here are
        # below 1e13, so not an 15/18-digit id either).
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**10:
            value = str(value)
        else:
            return []
    text = str(value)
    hits: list[tuple[str, str]] = []
    for m in _ID18.finditer(text):
        if is_resident_id(m.group(1)):
            hits.append(("id_number", m.group(1)))
    for m in _ID15.finditer(text):
        if is_old_resident_id(m.group(1)):
            hits.append(("old_id_number", m.group(1)))
    for m in _PHONE.finditer(text):
        hits.append(("phone", m.group(1)))
    if _ACCOUNT_COLUMN.search(column):
        for m in _DIGIT_RUN.finditer(text):
            if sum(c.isdigit() for c in m.group(0)) >= 8:
                hits.append(("account", m.group(0)))
    name = names.find(text)
    if name:
        hits.append(("person_name", name))
    return hits


class _Scanner:
    """scan_value with each distinct cell text scanned once: exports repeat the same
    prefecture, category and company names thousands of times, and the name search is
    the expensive part. The result depends only on the text and on whether the column
    is an account column, so the cache is exact."""

    def __init__(self, names: NameIndex) -> None:
        self.names = names
        self._seen: dict[tuple[bool, str], list[tuple[str, str]]] = {}

    def scan(self, value: object, column: str) -> list[tuple[str, str]]:
        if not isinstance(value, str):
            return scan_value(value, column, self.names)
        key = (bool(_ACCOUNT_COLUMN.search(column)), value)
        hits = self._seen.get(key)
        if hits is None:
            if len(self._seen) >= 200_000:  # memory stays bounded on any table size
                self._seen.clear()
            hits = self._seen[key] = scan_value(value, column, self.names)
        return hits


def _scan_rows(where: str, columns: Sequence[str], rows: Iterable[Sequence[object]], names: NameIndex | _Scanner,
               first_row: int = 1) -> list[Finding]:
    scanner = names if isinstance(names, _Scanner) else _Scanner(names)
    found: list[Finding] = []
    for i, row in enumerate(rows, start=first_row):
        for col, value in zip(columns, row, strict=False):
            if value is None:
                continue
            for kind, match in scanner.scan(value, col):
                found.append(Finding(where, col, i, kind, _redact(match)))
    return found


@contextlib.contextmanager
def _stream(conn: psycopg.Connection, query: sql.Composable, name: str) -> Iterator[tuple[list[Any], Iterable[tuple]]]:
    """A server-side cursor over `query` (rows fetched 2,000 at a time, so an export or a
    scan holds a bounded number of rows whatever the table's size): (description, rows)."""
    with conn.transaction(), conn.cursor(name=name) as cur:
        cur.itersize = 2000
        cur.execute(query)
        yield list(cur.description or []), cur


def scan_table(conn: psycopg.Connection, relation: str, names: NameIndex | _Scanner) -> list[Finding]:
    schema, table = relation.split(".", 1)
    q = sql.SQL("select * from {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    with _stream(conn, q, "ggzy_scan") as (desc, rows):
        return _scan_rows(relation, [d.name for d in desc], rows, names)


_XLSX_ROW = re.compile(r"<row\b[^>]*/>|<row\b.*?</row>", re.DOTALL)
_XLSX_CELL = re.compile(r'<c r="([A-Z]+)([0-9]+)"([^>]*?)(?:/>|>(.*?)</c>)', re.DOTALL)
_XLSX_TEXT = re.compile(r"<t(?: [^>]*)?>(.*?)</t>", re.DOTALL)
_XLSX_VALUE = re.compile(r"<v>(.*?)</v>", re.DOTALL)
_XLSX_SST_ITEM = re.compile(r"<si>(.*?)</si>", re.DOTALL)


def _xml_text(fragment: str) -> str:
    parts = _XLSX_TEXT.findall(fragment)
    text = parts[0] if len(parts) == 1 else "".join(parts)
    return html.unescape(text) if "&" in text else text


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _number(text: str) -> object:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _sheet_rows(chunks: Iterable[bytes], shared: list[str]) -> Iterator[list[object]]:
    """The rows of one worksheet's XML, as it streams in (cut at row ends)."""
    buf = ""
    decoder = codecs.getincrementaldecoder("utf-8")()
    for chunk in itertools.chain(chunks, [b""]):
        buf += decoder.decode(chunk, final=not chunk)
        end = buf.rfind("</row>") if chunk else len(buf)
        if end < 0:
            continue
        cut = end + len("</row>") if chunk else end
        block, buf = buf[:cut], buf[cut:]
        for row_xml in _XLSX_ROW.findall(block):
            cells: list[object] = []
            for col, _row, attrs, body in _XLSX_CELL.findall(row_xml):
                body = body or ""
                if 't="s"' in attrs:
                    v = _XLSX_VALUE.search(body)
                    text: object = shared[int(v.group(1))] if v else None
                elif 't="inlineStr"' in attrs:
                    text = _xml_text(body)
                elif 't="str"' in attrs or 't="e"' in attrs:
                    v = _XLSX_VALUE.search(body)
                    text = _xml_text(f"<t>{v.group(1)}</t>") if v else None
                else:  # a number (dates are numbers too): typed as openpyxl would read it
                    v = _XLSX_VALUE.search(body)
                    text = _number(v.group(1)) if v else None
                i = _column_index(col)
                cells.extend([None] * (i + 1 - len(cells)))
                cells[i] = text
            yield cells


def xlsx_rows(path: Path) -> Iterator[list[object]]:
    """Every cell of every worksheet of an .xlsx as text, read straight from its XML parts
    (shared strings, inline strings, values) and streamed row by row. A scanner must see
    everything in the file, and this is ~10x faster than building openpyxl cells."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            shared = [_xml_text(m) for m in _XLSX_SST_ITEM.findall(z.read("xl/sharedStrings.xml").decode("utf-8"))]
        sheets = sorted((n for n in names if re.fullmatch(r"xl/worksheets/sheet[0-9]+\.xml", n)),
                        key=lambda n: int(re.sub(r"[^0-9]", "", n)))
        for sheet in sheets:
            with z.open(sheet) as fh:
                yield from _sheet_rows(iter(lambda: fh.read(1 << 20), b""), shared)


def scan_file(path: Path, names: NameIndex | _Scanner) -> list[Finding]:
    """Scan an exported CSV or XLSX (headers included: they are text too), streamed."""
    path = Path(path)
    if path.suffix not in (".csv", ".xlsx"):
        return []
    with contextlib.ExitStack() as stack:
        if path.suffix == ".csv":
            rows: Iterator = iter(csv.reader(stack.enter_context(open(path, encoding="utf-8-sig", newline=""))))
        else:
            rows = xlsx_rows(path)
        first = next(rows, None)
        if first is None:
            return []
        header = [str(h) if h is not None else "" for h in first]
        return _scan_rows(str(path), header, itertools.chain([first], rows), names, first_row=1)


def disclosure_relations(conn: psycopg.Connection, schema: str = SCHEMA) -> list[str]:
    rows = conn.execute(
        """select n.nspname || '.' || c.relname
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'p', 'f') and not c.relispartition
           order by c.relname""",
        (schema,),
    ).fetchall()
    return [r[0] for r in rows]


def scan_for_pii(conn: psycopg.Connection | None = None, *, relations: Sequence[str] | None = None,
                 files: Iterable[Path] = (), names: NameIndex | None = None) -> list[Finding]:
    """Every piece of personal data in the given relations (default: every table of schema
    disclosure) and files. Empty list = clean."""
    own = conn is None
    conn = conn or db.connect()
    try:
        scanner = _Scanner(names if names is not None else load_person_names(conn))
        rels = disclosure_relations(conn) if relations is None else list(relations)
        found: list[Finding] = []
        for rel in rels:
            found += scan_table(conn, rel, scanner)
        for f in files:
            found += scan_file(Path(f), scanner)
        return found
    finally:
        if own:
            conn.close()


# ---------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    header: str


@dataclass(frozen=True)
class TableSpec:
    relation: str
    title: str
    columns: tuple[Column, ...]

    @property
    def table(self) -> str:
        return self.relation.split(".", 1)[1]


def header_from_comment(comment: str | None, fallback: str) -> str:
    """The Chinese header of a column: the first ' — '-separated part of its description
    that contains Chinese, else the column name."""
    if comment:
        for part in comment.split(" — "):
            part = part.strip()
            if _CJK.search(part):
                return part.rstrip("。.")
    return fallback


def table_specs(conn: psycopg.Connection, relations: Sequence[str] | None = None) -> list[TableSpec]:
    specs = []
    for rel in relations if relations is not None else disclosure_relations(conn):
        oid = conn.execute("select %s::regclass::oid", (rel,)).fetchone()[0]
        title = conn.execute("select obj_description(%s, 'pg_class')", (oid,)).fetchone()[0]
        cols = conn.execute(
            """select attname, col_description(attrelid, attnum) from pg_attribute
               where attrelid = %s and attnum > 0 and not attisdropped order by attnum""",
            (oid,),
        ).fetchall()
        table = rel.split(".", 1)[1]
        specs.append(TableSpec(rel, header_from_comment(title, table),
                               tuple(Column(n, header_from_comment(c, n)) for n, c in cols)))
    return specs


def _export_query(spec: TableSpec) -> sql.Composed:
    order = sql.SQL(", ").join(sql.Literal(i + 1) for i in range(len(spec.columns)))
    schema, table = spec.relation.split(".", 1)
    return sql.SQL("select * from {}.{} order by {}").format(sql.Identifier(schema), sql.Identifier(table), order)


# Excel number formats by PostgreSQL type oid: date, timestamp, timestamptz
_DATE_FORMATS = {1082: "yyyy-mm-dd", 1114: "yyyy-mm-dd hh:mm:ss", 1184: "yyyy-mm-dd hh:mm:ss"}


def _csv_value(v: object) -> str:
    if isinstance(v, str):
        return spreadsheet.neutralise_text(v)  # only text: numbers such as -12.5 stay numbers
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, dt.datetime):
        return (v.astimezone(TZ) if v.tzinfo else v).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, list | dict):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _xlsx_value(v: object) -> object:
    if v is None:
        return None
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, dt.datetime):
        return (v.astimezone(TZ) if v.tzinfo else v).replace(tzinfo=None)
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() and abs(v) < 2**53 else float(v)
    if isinstance(v, int | float | dt.date | str):
        return v
    return _csv_value(v)


def _sheet_title(title: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "", title)[:31] or "sheet"


def write_table(spec: TableSpec, rows: Iterable[tuple], out: Path,
                formats: dict[int, str] | None = None) -> tuple[list[Path], int]:
    """<table>.csv (UTF-8 with BOM) and <table>.xlsx, both with Chinese headers, written in
    one pass over `rows` (streamed: neither file is held in memory). `formats`: Excel
    number format by column index (dates). Returns the two paths and the row count."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    formats = formats or {}
    headers = [c.header for c in spec.columns]
    it = iter(rows)
    head = list(itertools.islice(it, 200))  # column widths from the first rows
    csv_path = out / f"{spec.table}.csv"
    xlsx_path = out / f"{spec.table}.xlsx"
    # write-only workbook: rows go to the file as they come instead of staying as cell objects
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_sheet_title(spec.title))
    ws.freeze_panes = "A2"
    for i, h in enumerate(headers):
        width = max([len(h) * 2] + [len(_csv_value(r[i])) for r in head]) + 2
        ws.column_dimensions[get_column_letter(i + 1)].width = min(60, max(8, width))
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    n = 0
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        for r in itertools.chain(head, it):
            n += 1
            w.writerow([_csv_value(v) for v in r])
            values = [_xlsx_value(v) for v in r]
            for i, v in enumerate(values):
                if isinstance(v, str) and spreadsheet.formula_risk(v):
                    values[i] = spreadsheet.text_cell(ws, v)
            for i, fmt in formats.items():
                if values[i] is not None:
                    cell = WriteOnlyCell(ws, value=values[i])
                    cell.number_format = fmt
                    values[i] = cell
            ws.append(values)
    wb.properties.title = spec.title
    wb.save(xlsx_path)
    return [csv_path, xlsx_path], n


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------
# Publication
# ---------------------------------------------------------------------------------------


@dataclass
class Publication:
    batch_date: dt.date
    published: bool
    reason: str
    export_dir: str | None = None
    files: list[dict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    recorded: bool = True  # False: nothing was attempted (already published)


def _ops_ddl(conn: psycopg.Connection) -> None:
    from importlib import resources

    conn.execute("create schema if not exists ops")
    conn.execute((resources.files("ggzy") / "sql" / "020_ops.sql").read_text(encoding="utf-8"))


def _record(conn: psycopg.Connection, pub: Publication) -> Publication:
    conn.execute(
        """insert into ops.publications (batch_date, published, reason, files, export_dir, published_at)
           values (%s, %s, %s, %s::jsonb, %s, case when %s then now() end)""",
        (pub.batch_date, pub.published, pub.reason, json.dumps(pub.files, ensure_ascii=False),
         pub.export_dir, pub.published),
    )
    return pub


def gate_result(conn: psycopg.Connection, batch_date: dt.date) -> tuple[bool, dt.datetime, object, str] | None:
    """(passed, checked_at, details, run_id) of the newest gate check of the date."""
    return conn.execute(
        """select passed, checked_at, details, run_id from ops.quality_gate
           where batch_date = %s order by checked_at desc limit 1""",
        (batch_date,),
    ).fetchone()


def _as_of_mismatch(conn: psycopg.Connection, specs: Sequence[TableSpec], batch_date: dt.date) -> str | None:
    for spec in specs:
        if any(c.name == "as_of_date" for c in spec.columns):
            schema, table = spec.relation.split(".", 1)
            dates = [r[0] for r in conn.execute(
                sql.SQL("select distinct as_of_date from {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))]
            wrong = [d for d in dates if d != batch_date]
            if wrong:
                return (f"{spec.relation} is built as of {', '.join(map(str, wrong))}, not {batch_date}: "
                        f"rebuild with `ggzy dbt build --vars '{{as_of_date: {batch_date}}}'` first")
    return None


def _summarise(findings: Sequence[Finding], limit: int = 10) -> str:
    lines = [str(f) for f in findings[:limit]]
    more = len(findings) - limit
    return "; ".join(lines) + (f"; ... and {more} more" if more > 0 else "")


def publish(batch_date: dt.date, *, force: bool = False, url: str | None = None,
            export_root: Path | None = None) -> Publication:
    """Publish the disclosure tables of a batch date, or record why not.

    Refused (and recorded) when: no gate result or the gate failed; the tables are built
    for another date; the PII scan finds anything in a table or a written file. Without
    `force`, a date already published is left alone (nothing recorded); with it, the files
    are written again and replace the earlier ones atomically.
    """
    root = Path(export_root or config.export_dir())
    with db.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("set timezone = {}").format(sql.Literal(config.TIMEZONE)))
        _ops_ddl(conn)

        def refuse(reason: str, findings: Sequence[Finding] = ()) -> Publication:
            return _record(conn, Publication(batch_date, False, reason, findings=list(findings)))

        gate = gate_result(conn, batch_date)
        if gate is None:
            return refuse(f"no quality gate result for {batch_date} in ops.quality_gate")
        passed, checked_at, details, run_id = gate
        if not passed:
            summary = json.dumps(details, ensure_ascii=False)[:500] if details is not None else "no details"
            return refuse(f"quality gate failed for {batch_date} (checked {checked_at:%Y-%m-%d %H:%M:%S%z}, "
                          f"run {run_id or '-'}): {summary}; the previous publication stays in force")

        current = conn.execute(
            "select export_dir, published_at from ops.current_publications where batch_date = %s", (batch_date,)
        ).fetchone()
        target = root / batch_date.isoformat()
        if current and not force and target.exists():
            return Publication(batch_date, True, f"already published at {current[1]:%Y-%m-%d %H:%M:%S%z} "
                               f"in {current[0]} (use --force to publish again)", export_dir=current[0],
                               recorded=False)

        specs = table_specs(conn)
        if not specs:
            return refuse(f"schema {SCHEMA} has no tables: run dbt build first")
        mismatch = _as_of_mismatch(conn, specs, batch_date)
        if mismatch:
            return refuse(mismatch)

        names = load_person_names(conn)
        findings = scan_for_pii(conn, relations=[s.relation for s in specs], names=names)
        if findings:
            return refuse(f"personal data found in {len(findings)} cells, nothing published: {_summarise(findings)}",
                          findings)

        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f".{batch_date.isoformat()}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            files: list[dict] = []
            written: list[Path] = []
            for spec in specs:
                with _stream(conn, _export_query(spec), "ggzy_export") as (desc, rows):
                    formats = {i: _DATE_FORMATS[d.type_code] for i, d in enumerate(desc) if d.type_code in _DATE_FORMATS}
                    paths, n_rows = write_table(spec, rows, tmp, formats)
                for p in paths:
                    written.append(p)
                    files.append({"name": p.name, "table": spec.relation, "title": spec.title, "rows": n_rows,
                                  "bytes": p.stat().st_size, "sha256": sha256(p)})
            findings = scan_for_pii(conn, relations=[], files=written, names=names)
            if findings:
                shutil.rmtree(tmp, ignore_errors=True)
                return refuse(f"personal data found in the exported files, nothing published: {_summarise(findings)}",
                              findings)
            manifest = {"batch_date": batch_date.isoformat(), "generated_at": dt.datetime.now(TZ).isoformat(),
                        "gate_checked_at": checked_at.isoformat(), "gate_run_id": run_id, "files": files}
            (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
            _swap_into_place(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _point_latest(root, batch_date)
        pub = Publication(batch_date, True, f"published {len(files)} files of {len(specs)} tables"
                          + (" (forced republication)" if current else ""), export_dir=str(target), files=files)
        return _record(conn, pub)


def _swap_into_place(tmp: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _point_latest(root: Path, batch_date: dt.date) -> None:
    """`latest` -> the newest published date (a republished older date does not move it back)."""
    latest = root / "latest"
    current = latest.resolve().name if latest.is_symlink() else None
    if current and current > batch_date.isoformat() and (root / current).exists():
        return
    tmp = root / f".latest.tmp-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(batch_date.isoformat())
    os.replace(tmp, latest)


def as_dict(pub: Publication) -> dict:
    d = asdict(pub)
    d["batch_date"] = pub.batch_date.isoformat()
    d["findings"] = [str(f) for f in pub.findings]
    return d
