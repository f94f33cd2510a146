"""Report periods and the monthly run's choice of periods (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from ggzy.report.period import PeriodError, closing_with, month_before, parse
from ggzy.report.scheduled import periods_of


@pytest.mark.parametrize(("text", "start", "end", "name", "previous"), [
    ("2026-11", dt.date(2026, 11, 1), dt.date(2026, 12, 1), "2026年11月", "2026-10"),
    ("2026-01", dt.date(2026, 1, 1), dt.date(2026, 2, 1), "2026年1月", "2025-12"),
    ("2026-Q4", dt.date(2026, 10, 1), dt.date(2027, 1, 1), "2026年第四季度", "2026-Q3"),
    ("2026-q1", dt.date(2026, 1, 1), dt.date(2026, 4, 1), "2026年第一季度", "2025-Q4"),
    ("2026-H2", dt.date(2026, 7, 1), dt.date(2027, 1, 1), "2026年下半年", "2026-H1"),
    ("2026-H1", dt.date(2026, 1, 1), dt.date(2026, 7, 1), "2026年上半年", "2025-H2"),
    ("2026", dt.date(2026, 1, 1), dt.date(2027, 1, 1), "2026年", "2025"),
])
def test_parse(text, start, end, name, previous):
    p = parse(text)
    assert (p.start, p.end, p.name_zh, p.previous().key) == (start, end, name, previous)
    assert parse(p.key) == p


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-Q0", "2026-H3", "26", "2026/11", ""])
def test_bad_periods(text):
    with pytest.raises(PeriodError):
        parse(text)


def test_the_monthly_run_reports_the_month_before_and_what_it_closes():
    assert [p.key for p in closing_with(month_before(dt.date(2026, 12, 2)))] == ["2026-11"]
    assert [p.key for p in closing_with(month_before(dt.date(2026, 7, 2)))] == ["2026-06", "2026-Q2", "2026-H1"]
    assert [p.key for p in closing_with(month_before(dt.date(2027, 1, 2)))] == ["2026-12", "2026-Q4", "2026-H2",
                                                                                 "2026"]
    # 2026-11-30 17:00 UTC is already 1 December in Kunming: the month before is November
    assert periods_of(dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC)) == ["2026-11"]
    assert periods_of(dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)) == ["2026-10"]
