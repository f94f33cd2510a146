"""The PII scan that guards publication: "no personal data" is checked, not promised.

Every disclosure table and every exported file is scanned for resident ID numbers (18
digits with a valid GB 11643 check digit and birth date; 15-digit old ones), mobile
phone numbers, long digit runs in account columns, and unmasked names of the natural
persons known to staging (legal representatives, contacts, linked persons, experts).
One hit refuses a publication. `scan_for_pii` is the same function the access tests use.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import datetime as dt
import decimal
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from ggzy import db
from ggzy.disclosure.tables import CJK, disclosure_relations, stream
from ggzy.disclosure.xlsx_reader import xlsx_rows

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
        if not CJK.search(t):
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
                idx.persons.update(_names(conn, q.format(t=table)))
    for table, q in company_sql.items():
        if _exists(conn, table):
            idx.companies.update(_names(conn, q.format(t=table)))
    idx.companies -= idx.persons
    return idx


def _names(conn: psycopg.Connection, query: str) -> set[str]:
    """The non-blank values of a one-column query, stripped. Fetched as one text of the values
    joined by line breaks, and apart the few that hold one: a row per value took three times
    as long (400k names at scale 16, and they grow with the history)."""
    joined, broken = conn.execute(
        f"select string_agg(v, E'\\n') filter (where strpos(v, E'\\n') = 0), "
        f"array_agg(v) filter (where strpos(v, E'\\n') > 0) from ({query}) as q(v)").fetchone()
    names = {n.strip() for n in itertools.chain(joined.split("\n") if joined else (), broken or ())}
    names.discard("")
    return names


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


class CellScanner:
    """scan_value with each distinct cell text scanned once: exports repeat the same
    prefecture, category and company names thousands of times, and the name search is
    the expensive part. The result depends only on the text and on whether the column
    is an account column, so the cache is exact."""

    def __init__(self, names: NameIndex) -> None:
        self.names = names
        self._seen: dict[tuple[bool, str], list[tuple[str, str]]] = {}
        self._account: dict[str, bool] = {}  # column -> is it an account column

    def scan(self, value: object, column: str) -> list[tuple[str, str]]:
        if not isinstance(value, str):
            return scan_value(value, column, self.names)
        account = self._account.get(column)
        if account is None:
            account = self._account[column] = bool(_ACCOUNT_COLUMN.search(column))
        key = (account, value)
        hits = self._seen.get(key)
        if hits is None:
            if len(self._seen) >= 200_000:  # memory stays bounded on any table size
                self._seen.clear()
            hits = self._seen[key] = scan_value(value, column, self.names)
        return hits


def scan_rows(where: str, columns: Sequence[str], rows: Iterable[Sequence[object]], names: NameIndex | CellScanner,
              first_row: int = 1) -> list[Finding]:
    found: list[Finding] = []
    collections.deque(scan_rows_passing(where, columns, rows, names, found, first_row), maxlen=0)
    return found


def scan_rows_passing(where: str, columns: Sequence[str], rows: Iterable[Sequence[object]],
                      names: NameIndex | CellScanner, found: list[Finding], first_row: int = 1
                      ) -> Iterator[Sequence[object]]:
    """The rows, each scanned as it passes (its findings appended to `found`): the scan rides
    along with another reader of the same rows, such as the writer of their files."""
    scanner = names if isinstance(names, CellScanner) else CellScanner(names)
    for i, row in enumerate(rows, start=first_row):
        for col, value in zip(columns, row, strict=False):
            if value is None:
                continue
            for kind, match in scanner.scan(value, col):
                found.append(Finding(where, col, i, kind, _redact(match)))
        yield row


def scan_table(conn: psycopg.Connection, relation: str, names: NameIndex | CellScanner) -> list[Finding]:
    schema, table = relation.split(".", 1)
    q = sql.SQL("select * from {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    with stream(conn, q, "ggzy_scan") as (desc, rows):
        return scan_rows(relation, [d.name for d in desc], rows, names)


def scan_file(path: Path, names: NameIndex | CellScanner) -> list[Finding]:
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
        return scan_rows(str(path), header, itertools.chain([first], rows), names, first_row=1)


def scan_for_pii(conn: psycopg.Connection | None = None, *, relations: Sequence[str] | None = None,
                 files: Iterable[Path] = (), names: NameIndex | None = None) -> list[Finding]:
    """Every piece of personal data in the given relations (default: every table of schema
    disclosure) and files. Empty list = clean."""
    own = conn is None
    conn = conn or db.connect()
    try:
        scanner = CellScanner(names if names is not None else load_person_names(conn))
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
