"""Validation rules of the loader, derived from the contract's column kinds.

Each contract column gets at most two checks: `required` (if the contract says
so) and one check of its kind. A check is a SQL predicate over the raw text
value (the loader runs them set-based on the rows a file just COPYed into raw)
plus a stable rule id (`raw.quarantine.rule`) and a sentence for the message.

Why two strategies: check digits, regions, dates, numbers, timestamps and
project codes cost more per value in SQL but their columns repeat a lot (a
bidder bids hundreds of times, a day's scores share one evaluation time), so
they are checked once per *distinct* value (`per_distinct`), and rows are then
matched against the few bad values. Cheap checks (required, enum, bool, money)
run per row in the same scan.

The Python functions at the bottom are the reference implementations (using
python-stdnum for the check digits); tests compare the SQL with them.
`client_check` gives exact Python twins of some SQL checks; the loader no
longer uses them (it validates in SQL only), they are kept for tools and tests.

Decisions (documented here because the contract is silent):
- empty field = NULL; `required` also fails on whitespace-only text.
- bool: what PostgreSQL's boolean input reads, spelled out: true/false, t/f,
  1/0, yes/no, y/n, on/off in lower, UPPER or Title case (staging casts ::boolean).
- timestamp: ISO-8601 `YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]][Z|±HH[:MM]]`; an offset
  is expected (+08:00) but a missing one is accepted (staging reads it as
  Asia/Shanghai); trailing zone names (`CST` would be read as US Central) are refused.
- money: digits with at most 2 decimals, no sign, exponent or leading zeros, <= max_value.
- number: non-negative decimal (<= 6 decimals) <= max_value; integer: optional '-', <= 9 digits.
- USCC: [0-9A-HJ-NPQRTUWXY]{2} + 6 digits + 9 code chars + check (upper case).
- resident ID: 17 digits + check digit (X or x), birth date real and 1900-2099.
- region: 6 digits with a GB/T 2260 province prefix (11..82); a region list is
  ';'-separated region codes.
- project code: NFKC, dash-like characters to '-', whitespace removed, then
  YYYY-RRRRRR-II-TT-NNNNNN. A lenient column keeps malformed codes (loaded).
- party_id: a valid USCC or a valid resident ID.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from operator import mul

from psycopg import sql
from stdnum.cn import ric, uscc

from ggzy.feeds import contract as c

# Stable rule ids (raw.quarantine.rule), shared with the generator's ground truth.
REQUIRED = "required"
USCC_CHECK = "uscc_check_digit"
ID_CHECK = "id_check_digit"
REGION_CODE = "region_code"
PROJECT_CODE_FORMAT = "project_code_format"
ENUM = "enum"
DATE = "date"
TIMESTAMP = "timestamp"
MONEY = "money"
NUMBER = "number"
INTEGER = "integer"
BOOL = "bool"
PARTY_ID = "party_id"
DUPLICATE_ROW = "duplicate_row"
JSON_SYNTAX = "json_syntax"
COLUMN_COUNT = "column_count"
# Checked on the client while streaming (ggzy.feeds.stream), before anything reaches PostgreSQL:
ENCODING = "encoding"  # bytes that are not the file's encoding (UTF-8 / GB18030), or a NUL byte
TOO_LONG = "too_long"  # a line over GGZY_MAX_LINE_BYTES or a value over GGZY_MAX_FIELD_BYTES
JSON_DEPTH = "json_depth"  # a JSON line nested deeper than GGZY_MAX_JSON_DEPTH
RULES = (REQUIRED, USCC_CHECK, ID_CHECK, REGION_CODE, PROJECT_CODE_FORMAT, ENUM, DATE, TIMESTAMP, MONEY,
         NUMBER, INTEGER, BOOL, PARTY_ID, DUPLICATE_ROW, JSON_SYNTAX, COLUMN_COUNT, ENCODING, TOO_LONG, JSON_DEPTH)


@dataclass(frozen=True)
class Check:
    column: str
    rule: str
    predicate: str  # SQL template over {v}: true when the (non-null) value is fine
    describe: str  # what is wrong, for the message
    per_distinct: bool = False
    null_ok: bool = True  # False only for `required`

    def ok(self, v: str | None = None) -> str:
        """NULL-safe SQL predicate over the column (or over the expression `v`)."""
        v = v or ident(self.column)
        pred = self.predicate.replace("{v}", v)
        return f"({v} is null or {pred})" if self.null_ok else pred


def ident(name: str) -> str:
    return sql.Identifier(name).as_string(None)


def lit(value: object) -> str:
    return sql.Literal(value).as_string(None)


def kind_check(col: c.Column, server_version: int = 160000) -> Check | None:
    """The check of a column's kind, or None (free text, lenient project code)."""
    k, n = col.kind, col.name
    if k == c.USCC:
        return Check(n, USCC_CHECK, "raw.uscc_ok({v})", "not a valid USCC (GB 32100-2015 format and check digit)", True)
    if k == c.ID_NO:
        return Check(n, ID_CHECK, "raw.id_no_ok({v})", "not a valid resident ID number (GB 11643 check digit, birth date)", True)
    if k == c.PARTY_ID:
        return Check(n, PARTY_ID, "(raw.uscc_ok({v}) or raw.id_no_ok({v}))",
                     "neither a valid USCC nor a valid resident ID number", True)
    if k == c.REGION:
        return Check(n, REGION_CODE, "raw.region_ok({v})", "not a 6-digit GB/T 2260 region code", True)
    if k == c.REGION_LIST:
        return Check(n, REGION_CODE, "raw.region_list_ok({v})", "not a ';'-separated list of GB/T 2260 region codes", True)
    if k == c.PROJECT_CODE:
        if col.lenient:
            return None
        return Check(n, PROJECT_CODE_FORMAT, "raw.project_code_ok({v})",
                     "not a project code YYYY-RRRRRR-II-TT-NNNNNN (after normalising width, dashes, spaces)", True)
    if k == c.ENUM:
        arr = lit("{" + ",".join(f'"{x}"' for x in col.values) + "}")
        return Check(n, ENUM, "{v} = any(" + arr + "::text[])", f"not one of {'|'.join(col.values)}")
    if k == c.ENUM_LIST:
        arr = lit("{" + ",".join(f'"{x}"' for x in col.values) + "}")
        return Check(n, ENUM, "raw.enum_list_ok({v}, " + arr + "::text[])",
                     f"not a ';'-separated list of {'|'.join(col.values)}", True)
    if k == c.DATE:
        return Check(n, DATE, "raw.date_ok({v})", "not a date YYYY-MM-DD", True)
    if k == c.TIMESTAMP:
        if server_version >= 160000:
            return Check(n, TIMESTAMP, "raw.timestamp_ok_fast({v})",
                         "not an ISO-8601 timestamp (YYYY-MM-DDTHH:MM:SS+08:00)", True)
        return Check(n, TIMESTAMP, "(raw.timestamp_shape_ok({v}) and raw.try_timestamptz({v}))",
                     "not an ISO-8601 timestamp (YYYY-MM-DDTHH:MM:SS+08:00)", True)
    if k == c.MONEY:
        mx = col.max_value if col.max_value is not None else c.BIG
        fn = "raw.money_ok_fast" if server_version >= 160000 else "raw.money_ok"
        return Check(n, MONEY, fn + "({v}, " + lit(f"{mx:.2f}") + "::numeric)",
                     f"not an amount in yuan (>= 0, <= 2 decimals, <= {mx:.0f})")
    if k == c.NUMBER:
        mx = "null" if col.max_value is None else lit(f"{col.max_value:g}")
        return Check(n, NUMBER, "raw.number_ok({v}, " + mx + "::numeric)",
                     "not a non-negative number" + (f" <= {col.max_value:g}" if col.max_value is not None else ""), True)
    if k == c.INTEGER:
        return Check(n, INTEGER, "raw.integer_ok({v})", "not an integer", True)
    if k == c.BOOL:
        return Check(n, BOOL, "raw.bool_ok({v})", "not a boolean (true/false, 1/0, yes/no)")
    return None


def checks(ff: c.FeedFile, server_version: int = 160000) -> list[Check]:
    """All checks of a contract file, in column order (required before kind)."""
    out: list[Check] = []
    for col in ff.columns:
        if col.required:
            pred = "({v} is not null and btrim({v}) <> '')" if col.kind == c.TEXT else "{v} is not null"
            out.append(Check(col.name, REQUIRED, pred, "required value missing", null_ok=False))
        kc = kind_check(col, server_version)
        if kc is not None:
            out.append(kc)
    return out


# ---------------------------------------------------------------------------
# Python reference implementations (tests; also handy for the generator).

_USCC_RE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")
_PROVINCES = frozenset("11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
                       "50 51 52 53 54 61 62 63 64 65 71 81 82".split())
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d\ufe63"), "-")
_PROJECT_RE = re.compile(r"[0-9]{4}-[0-9]{6}-[0-9]{2}-[0-9]{2}-[0-9]{6}")
_TS_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?")


def py_uscc_ok(v: str) -> bool:
    return bool(_USCC_RE.fullmatch(v)) and uscc.calc_check_digit(v[:17]) == v[17]


def py_id_no_ok(v: str) -> bool:
    if not re.fullmatch(r"[0-9]{17}[0-9Xx]", v):
        return False
    if ric.calc_check_digit(v[:17] + "0") != v[17].upper():
        return False
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= 2099


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ID_RE = re.compile(r"[0-9]{17}[0-9Xx]")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def fast_uscc_ok(v: str) -> bool:
    """py_uscc_ok without python-stdnum's per-call overhead (the loader checks
    hundreds of thousands of values; tests hold the two equal)."""
    if not _USCC_RE.fullmatch(v):
        return False
    total = sum(map(mul, map(_USCC_VALUE.__getitem__, v[:17]), _USCC_WEIGHTS))
    return _USCC_ALPHABET[(31 - total % 31) % 31] == v[17]


def fast_id_no_ok(v: str) -> bool:
    """py_id_no_ok without python-stdnum (tests hold the two equal)."""
    if not _ID_RE.fullmatch(v):
        return False
    total = sum(map(mul, map(int, v[:17]), _ID_WEIGHTS))
    if "10X98765432"[total % 11] != v[17].upper():
        return False
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= 2099


def py_region_ok(v: str) -> bool:
    return bool(re.fullmatch(r"[0-9]{6}", v)) and v[:2] in _PROVINCES


def normalize_project_code(v: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", v).translate(_DASHES))


def py_project_code_ok(v: str) -> bool:
    return bool(_PROJECT_RE.fullmatch(normalize_project_code(v)))


def py_date_ok(v: str) -> bool:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v):
        return False
    try:
        date.fromisoformat(v)
        return True
    except ValueError:
        return False


def py_timestamp_ok(v: str) -> bool:
    if not _TS_RE.fullmatch(v):
        return False
    try:
        datetime.fromisoformat(v)
        return True
    except ValueError:
        return False


def py_money_ok(v: str, max_value: float | None = c.BIG) -> bool:
    return bool(re.fullmatch(r"(0|[1-9][0-9]{0,14})(\.[0-9]{1,2})?", v)) and \
        Decimal(v) <= Decimal(f"{max_value or c.BIG:.2f}")


_NUMBER_RE = re.compile(r"[0-9]{1,15}(\.[0-9]{1,6})?")


def py_number_ok(v: str, max_value: float | None = None) -> bool:
    """As raw.number_ok(v, max) with max written as the loader writes it ({max:g})."""
    return bool(_NUMBER_RE.fullmatch(v)) and (max_value is None or Decimal(v) <= Decimal(f"{max_value:g}"))


_INTEGER_RE = re.compile(r"-?[0-9]{1,9}")

# Kinds whose per-distinct SQL check has an exact Python twin: on CSV files the
# loader checks each distinct value of these columns once per process, on the
# client (a cache across batches), instead of once per file in SQL.
CLIENT_KINDS = frozenset({c.USCC, c.ID_NO, c.PARTY_ID, c.REGION, c.REGION_LIST, c.DATE, c.NUMBER, c.INTEGER})


def client_check(col: c.Column) -> Callable[[str], bool] | None:
    """The exact Python twin of the column's per-distinct SQL check, or None."""
    k = col.kind
    if k not in CLIENT_KINDS:
        return None
    if k == c.USCC:
        return fast_uscc_ok
    if k == c.ID_NO:
        return fast_id_no_ok
    if k == c.PARTY_ID:
        return lambda v: fast_uscc_ok(v) or fast_id_no_ok(v)
    if k == c.REGION:
        return py_region_ok
    if k == c.REGION_LIST:
        return lambda v: all(py_region_ok(x) for x in v.split(";"))
    if k == c.DATE:
        return py_date_ok
    if k == c.NUMBER:
        mx = col.max_value
        return lambda v: py_number_ok(v, mx)
    return lambda v: bool(_INTEGER_RE.fullmatch(v))


_BOOLS = frozenset(w for b in "true false t f 1 0 yes no y n on off".split() for w in (b, b.upper(), b.title()))


def py_value_ok(col: c.Column, v: str) -> bool:
    """Reference check of one non-empty value against its column's kind."""
    k = col.kind
    if k == c.USCC:
        return py_uscc_ok(v)
    if k == c.ID_NO:
        return py_id_no_ok(v)
    if k == c.PARTY_ID:
        return py_uscc_ok(v) or py_id_no_ok(v)
    if k == c.REGION:
        return py_region_ok(v)
    if k == c.REGION_LIST:
        return all(py_region_ok(x) for x in v.split(";"))
    if k == c.PROJECT_CODE:
        return col.lenient or py_project_code_ok(v)
    if k == c.ENUM:
        return v in col.values
    if k == c.ENUM_LIST:
        return all(x in col.values for x in v.split(";"))
    if k == c.DATE:
        return py_date_ok(v)
    if k == c.TIMESTAMP:
        return py_timestamp_ok(v)
    if k == c.MONEY:
        return py_money_ok(v, col.max_value)
    if k == c.NUMBER:
        return py_number_ok(v, col.max_value)
    if k == c.INTEGER:
        return bool(re.fullmatch(r"-?[0-9]{1,9}", v))
    if k == c.BOOL:
        return v in _BOOLS
    return True


def py_rules(ff: c.FeedFile, row: dict[str, str | None]) -> list[str]:
    """Rules a row breaks, in the loader's order (reference for tests)."""
    broken = []
    for col in ff.columns:
        v = row.get(col.name)
        v = None if v == "" else v
        if col.required and (v is None or (col.kind == c.TEXT and not v.strip())):
            broken.append(REQUIRED)
        if v is not None and not py_value_ok(col, v):
            kc = kind_check(col)
            broken.append(kc.rule if kc else col.kind)
    return broken
