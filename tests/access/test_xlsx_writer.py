"""The publication's .xlsx writer (ggzy.disclosure.xlsx_writer): the cells, types and styles
openpyxl reads back are the ones its write-only workbook wrote before, and the same rows
make the same bytes."""

from __future__ import annotations

import datetime as dt
import decimal
import zipfile

import pytest

from ggzy.disclosure import Column, TableSpec, sha256, write_table, xlsx_rows
from ggzy.disclosure.xlsx_writer import column_letter, serial

SPEC = TableSpec("disclosure.t", "测试：中标结果", (Column("name", "名称"), Column("amount", "金额"),
                                                Column("on", "日期"), Column("at", "时间"), Column("flag", "是否")))
ROWS = [
    ("五华区 <学府路> & 道路改造", decimal.Decimal("10363000.00"), dt.date(2026, 12, 7),
     dt.datetime(2026, 12, 7, 9, 30, 15), True),
    ("=HYPERLINK(\"x\")", decimal.Decimal("-12.50"), None, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), False),
    ("  前后有空格 ", 7, dt.date(1999, 3, 1), None, None),
    ("", 2.5, None, None, None),
]
FORMATS = {2: "yyyy-mm-dd", 3: "yyyy-mm-dd hh:mm:ss"}


def test_cells_types_and_styles_read_back(tmp_path):
    from openpyxl import load_workbook

    (_, path), n = write_table(SPEC, ROWS, tmp_path, FORMATS)
    assert n == len(ROWS)
    wb = load_workbook(path)
    ws = wb.active
    assert ws.title == "测试：中标结果" and wb.properties.title == "测试：中标结果"
    assert ws.freeze_panes == "A2"
    assert [(c.value, c.font.b) for c in ws[1]] == [(h, True) for h in ("名称", "金额", "日期", "时间", "是否")]
    got = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert got == [
        ["五华区 <学府路> & 道路改造", 10363000, dt.datetime(2026, 12, 7), dt.datetime(2026, 12, 7, 9, 30, 15), "是"],
        ["=HYPERLINK(\"x\")", -12.5, None, dt.datetime(2026, 1, 1, 8, 0), "否"],  # tz: as Asia/Shanghai
        ["  前后有空格 ", 7, dt.datetime(1999, 3, 1), None, None],
        [None, 2.5, None, None, None],
    ]
    assert ws["A3"].data_type == "s" and ws["A3"].quotePrefix and not ws["A2"].quotePrefix
    assert ws["B2"].data_type == "n" and ws["C2"].number_format == "yyyy-mm-dd"
    assert ws["D2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert ws.column_dimensions["A"].width == 16 + 2 and ws.column_dimensions["E"].width == 8  # widest cell + 2, at least 8
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
    # the scan's own reader sees the same cells (dates as their serial numbers)
    assert list(xlsx_rows(path))[1][:3] == ["五华区 <学府路> & 道路改造", 10363000, serial(dt.date(2026, 12, 7))]


def test_the_same_rows_make_the_same_bytes(tmp_path):
    (_, first), _ = write_table(SPEC, ROWS, tmp_path / "a", FORMATS)
    (_, again), _ = write_table(SPEC, ROWS, tmp_path / "b", FORMATS)
    assert sha256(first) == sha256(again)
    (_, other), _ = write_table(SPEC, ROWS[:-1], tmp_path / "c", FORMATS)
    assert sha256(other) != sha256(first)


def test_a_number_without_a_value_is_an_empty_cell(tmp_path):
    (_, path), _ = write_table(SPEC, [("a", float("nan"), None, None, None), ("b", decimal.Decimal("Infinity"),
                                                                             None, None, None)], tmp_path)
    assert [r[:2] for r in xlsx_rows(path)][1:] == [["a"], ["b"]]


def test_a_control_character_is_refused(tmp_path):
    with pytest.raises(ValueError, match="control character"):
        write_table(SPEC, [("a\x01b", 1, None, None, None)], tmp_path)


def test_column_letters_and_serials():
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    assert serial(dt.date(1900, 3, 1)) == 61 and serial(dt.date(2026, 12, 31)) == 46387
    assert serial(dt.datetime(2026, 12, 31, 12)) == 46387.5
