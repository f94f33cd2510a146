"""Working-day arithmetic on day numbers (days since 1970-01-01, Asia/Shanghai).

Statutory time limits (bid periods aside) count working days of mainland China,
including the adjusted weekends (调休). `chinese_calendar` knows 2004–2026; past that the
provisional calendar of ggzy.sampling.workdays (statutory holidays of the `holidays`
package, Monday–Friday otherwise), as the warehouse counts, so a range reaching 2027
still generates.
All lookups are vectorised: the generator computes dates for whole arrays of lots.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

EPOCH = dt.date(1970, 1, 1)
DAY = 86400


def day_number(d: dt.date) -> int:
    return (d - EPOCH).days


def to_date(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


def is_workday(d: dt.date) -> bool:
    """Mainland China working day (one definition: ggzy.sampling.workdays), without its
    warning: the generator reaches past the last notice on purpose (time limits run on)."""
    import warnings

    from ggzy.sampling.workdays import is_workday as _is_workday

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _is_workday(d)


class WorkCalendar:
    """Working days over a closed interval of day numbers."""

    def __init__(self, first: int, last: int) -> None:
        self.first = first
        self.last = last
        days = np.arange(first, last + 1, dtype=np.int64)
        self.is_wd = np.array([is_workday(to_date(d)) for d in days], dtype=bool)
        self.workdays = days[self.is_wd]
        # rank[i] = number of working days <= first + i
        self.rank = np.cumsum(self.is_wd)

    def _clip(self, d: np.ndarray | int) -> np.ndarray:
        return np.clip(np.asarray(d, dtype=np.int64), self.first, self.last)

    def workday(self, d: np.ndarray | int) -> np.ndarray:
        """Whether each day is a working day."""
        return self.is_wd[self._clip(d) - self.first]

    def next_workday(self, d: np.ndarray | int) -> np.ndarray:
        """The first working day on or after d."""
        i = np.searchsorted(self.workdays, self._clip(d), side="left")
        return self.workdays[np.minimum(i, len(self.workdays) - 1)]

    def prev_workday(self, d: np.ndarray | int) -> np.ndarray:
        """The last working day on or before d."""
        i = np.searchsorted(self.workdays, self._clip(d), side="right") - 1
        return self.workdays[np.maximum(i, 0)]

    def add_workdays(self, d: np.ndarray | int, n: np.ndarray | int) -> np.ndarray:
        """The n-th working day after d (n=0: d itself if a working day, else the next one)."""
        d = self._clip(d)
        n = np.asarray(n, dtype=np.int64)
        base = np.searchsorted(self.workdays, d, side="left")  # index of next_workday(d)
        # when d is not a working day, next_workday(d) already counts as the first step
        shift = np.where(self.is_wd[d - self.first], n, np.maximum(n - 1, 0))
        i = np.clip(base + shift, 0, len(self.workdays) - 1)
        return self.workdays[i]

    def workdays_between(self, a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
        """Working days in (a, b]: how statutory limits are counted (the start day excluded)."""
        return self.rank[self._clip(b) - self.first] - self.rank[self._clip(a) - self.first]
