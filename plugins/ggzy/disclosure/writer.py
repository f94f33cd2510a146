"""The files of a publication: CSV (UTF-8 with BOM, so Excel shows Chinese) and XLSX
(xlsx_writer.py), with Chinese headers, written in one streamed pass. Every text cell goes
through ggzy.spreadsheet, so no cell is ever a formula a spreadsheet would run (formula
injection, OWASP "CSV Injection"); numbers stay numbers."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from ggzy import config, spreadsheet
from ggzy.disclosure.tables import TableSpec
from ggzy.disclosure.xlsx_writer import write_xlsx

TZ = ZoneInfo(config.TIMEZONE)
# What the bytes of a file depend on besides its rows and its table's layout: raise it
# when the writer changes what it writes, so the next publication re-exports every file.
FORMAT_VERSION = 1

# Excel number formats by PostgreSQL type oid: date, timestamp, timestamptz
DATE_FORMATS = {1082: "yyyy-mm-dd", 1114: "yyyy-mm-dd hh:mm:ss", 1184: "yyyy-mm-dd hh:mm:ss"}


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
    if v is None or type(v) is str:
        return v
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
                formats: dict[int, str] | None = None, *, stem: str | None = None) -> tuple[list[Path], int]:
    """<stem>.csv (UTF-8 with BOM) and <stem>.xlsx under `out` (stem: the table's name unless
    given, e.g. tender_results/2026-02), both with Chinese headers, written in one pass over
    `rows` (streamed: neither file is held in memory). `formats`: Excel number format by
    column index (dates). Returns the two paths and the row count."""
    headers = [c.header for c in spec.columns]
    it = iter(rows)
    head = list(itertools.islice(it, 200))  # column widths from the first rows
    widths = [min(60, max(8, max([len(h) * 2] + [len(_csv_value(r[i])) for r in head]) + 2))
              for i, h in enumerate(headers)]
    csv_path = out / f"{stem or spec.table}.csv"
    xlsx_path = out / f"{stem or spec.table}.xlsx"
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(headers)

        def rows_to_xlsx() -> Iterator[list[object]]:
            nonlocal n
            for r in itertools.chain(head, it):
                n += 1
                w.writerow([_csv_value(v) for v in r])
                yield [_xlsx_value(v) for v in r]

        write_xlsx(xlsx_path, spec.title, _sheet_title(spec.title), headers, widths, rows_to_xlsx(), formats)
    return [csv_path, xlsx_path], n


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
