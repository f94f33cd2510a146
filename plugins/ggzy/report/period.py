"""Report periods: a month (2026-11), a quarter (2026-Q4), a half-year (2026-H2) or a
year (2026), each with its Chinese name and the period before it of the same kind
(the comparison every section's text makes)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

KINDS = {"month": 1, "quarter": 3, "half": 6, "year": 12}  # months per period
_PATTERNS = [
    (re.compile(r"^(\d{4})-(\d{2})$"), "month"),
    (re.compile(r"^(\d{4})-Q([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})-H([12])$"), "half"),
    (re.compile(r"^(\d{4})$"), "year"),
]


class PeriodError(ValueError):
    """The text is not a period this report knows."""


@dataclass(frozen=True)
class Period:
    kind: str  # month | quarter | half | year
    start: dt.date  # first day
    end: dt.date  # first day of the next period (exclusive)

    @property
    def key(self) -> str:
        y, m = self.start.year, self.start.month
        return {"month": f"{y}-{m:02d}", "quarter": f"{y}-Q{(m - 1) // 3 + 1}",
                "half": f"{y}-H{(m - 1) // 6 + 1}", "year": f"{y}"}[self.kind]

    @property
    def name_zh(self) -> str:
        y, m = self.start.year, self.start.month
        return {"month": f"{y}年{m}月", "quarter": f"{y}年第{'一二三四'[(m - 1) // 3]}季度",
                "half": f"{y}年{'上下'[(m - 1) // 6]}半年", "year": f"{y}年"}[self.kind]

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def previous(self) -> Period:
        return Period(self.kind, add_months(self.start, -KINDS[self.kind]), self.start)


def add_months(d: dt.date, months: int) -> dt.date:
    n = d.year * 12 + d.month - 1 + months
    return dt.date(n // 12, n % 12 + 1, 1)


def parse(text: str) -> Period:
    """'2026-11' | '2026-Q4' | '2026-H2' | '2026' -> Period; PeriodError otherwise."""
    text = text.strip().upper()
    for pattern, kind in _PATTERNS:
        m = pattern.match(text)
        if not m:
            continue
        year = int(m.group(1))
        index = int(m.group(2)) if kind != "year" else 1
        if kind == "month" and not 1 <= index <= 12:
            break
        start = dt.date(year, (index - 1) * KINDS[kind] + 1, 1)
        return Period(kind, start, add_months(start, KINDS[kind]))
    raise PeriodError(f"period {text!r}: expected YYYY-MM, YYYY-Qn, YYYY-Hn or YYYY (e.g. 2026-H2)")


def month_before(day: dt.date) -> Period:
    """The month before `day`'s month: what the monthly run on the 1st reports on."""
    start = add_months(day.replace(day=1), -1)
    return Period("month", start, add_months(start, 1))


def closing_with(month: Period) -> list[Period]:
    """The month and every longer period that ends with it (a quarter after March, June,
    September, December; a half-year after June and December; the year after December)."""
    out = [month]
    for kind in ("quarter", "half", "year"):
        if month.start.month % KINDS[kind] == 0:  # e.g. June (6) ends Q2 and H1, not the year
            out.append(Period(kind, add_months(month.end, -KINDS[kind]), month.end))
    return out
