"""Working days of mainland China for publication deadlines (10 个工作日).

Uses the `chinese_calendar` package (the State Council's holiday notices, with adjusted
working weekends). For a year the package does not know yet, it falls back to
Monday-Friday and warns, so a deadline is never silently wrong: the dbt mart
`fct_sampling_followup` recomputes due dates on `int_workdays`, where the office can add
the new year's notice as data (seeds/calendar_overrides.csv).
"""

from __future__ import annotations

import datetime as dt
import warnings

_warned: set[int] = set()


def is_workday(day: dt.date) -> bool:
    try:
        import chinese_calendar

        return bool(chinese_calendar.is_workday(day))
    except (NotImplementedError, ImportError):
        if day.year not in _warned:
            _warned.add(day.year)
            warnings.warn(
                f"no holiday notice known for {day.year}: counting Monday-Friday as working days",
                stacklevel=2,
            )
        return day.weekday() < 5


def add_workdays(start: dt.date, n: int) -> dt.date:
    """The n-th working day after `start` (start itself not counted), n >= 1."""
    if n < 1:
        raise ValueError("n must be >= 1")
    day, counted = start, 0
    while counted < n:
        day += dt.timedelta(days=1)
        if is_workday(day):
            counted += 1
    return day
