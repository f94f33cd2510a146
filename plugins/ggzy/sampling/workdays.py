"""Working days of mainland China, for Python code (publication deadlines, the demo generator).

The one definition the Python side uses, matching the dbt calendar (int_workdays): the
`chinese_calendar` package (the State Council's holiday notices, with adjusted working
weekends) for the years it knows; for a later year, provisionally, the statutory holidays
of the `holidays` package's China calendar and Monday-Friday otherwise (no adjusted
working days are known before the notice), with a warning, so that a deadline is never
silently wrong: the dbt marts (`fct_sampling_followup`, `fct_time_limits`) recompute on
`int_workdays`, where the office enters the new notice as data
(seeds/calendar_overrides.csv) and results resting on a provisional day are marked.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings

_warned: set[int] = set()


@functools.cache
def _provisional_days_off(year: int) -> frozenset[dt.date]:
    import holidays

    return frozenset(holidays.China(years=year))


def is_provisional(day: dt.date) -> bool:
    """True when no holiday notice is known for the day's year (the answer is a guess)."""
    try:
        import chinese_calendar

        chinese_calendar.is_workday(day)
        return False
    except (NotImplementedError, ImportError):
        return True


def is_workday(day: dt.date) -> bool:
    try:
        import chinese_calendar

        return bool(chinese_calendar.is_workday(day))
    except (NotImplementedError, ImportError):
        if day.year not in _warned:
            _warned.add(day.year)
            warnings.warn(
                f"no holiday notice known for {day.year}: provisional working days "
                "(statutory holidays of the holidays package, Monday-Friday otherwise)",
                stacklevel=2,
            )
        return day.weekday() < 5 and day not in _provisional_days_off(day.year)


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
