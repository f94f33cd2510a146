"""The nights the end-to-end and operations tests read: two nightly runs of the real DAG
(`airflow dags test`) on the session warehouse, after 45 days of generated history.

One pair of runs for both modules (the `nights` fixture of tests/conftest.py): the
end-to-end tests only read what the runs left, and tests/test_operations.py, which reruns
days and breaks things, comes after them in the session (files run in name order)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

NIGHT1 = dt.date(2026, 8, 20)
NIGHT2 = dt.date(2026, 8, 21)
HISTORY_FROM = NIGHT1 - dt.timedelta(days=45)  # enough lots (> 50) at scale 0.02
SCALE, SEED = 0.02, 5


def run_nights(url: str, landing: Path) -> list[tuple[dt.date, str]]:
    """Generate HISTORY_FROM..NIGHT2, load the history before NIGHT1, run both nights
    (GGZY_WAREHOUSE_URL and GGZY_LANDING must point at `url` and `landing`)."""
    from ggzy.feeds.load import load_range
    from ggzy.generator import generate
    from ggzy.runs import run_dates

    generate(landing, HISTORY_FROM, NIGHT2, scale=SCALE, seed=SEED)
    load_range(landing, HISTORY_FROM, NIGHT1 - dt.timedelta(days=1), url=url)
    return run_dates([NIGHT1, NIGHT2], env_extra={"GGZY_TASK_RETRIES": "0"})
