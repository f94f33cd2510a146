"""A warehouse database of its own for the report tests, on the session's server: four
months of generated data (scale 0.02) loaded and built by dbt, alerts synced and some
handled, a 双随机 draw with results, clues registered, so every section has numbers and
the period before has numbers to compare with."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import psycopg
import pytest
from databases import own_database

REPO = Path(__file__).resolve().parents[2]
FIRST, LAST = dt.date(2026, 3, 1), dt.date(2026, 7, 3)
DATABASE = "ggzy_report_test"


def artefacts() -> Path:
    """Where the rendered pages go for a person to look at (kept after the run)."""
    root = Path(os.environ.get("GGZY_TEST_ARTEFACTS", REPO / ".ggzy" / "test-artefacts")) / "report"
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="session")
def report_url(warehouse_url, tmp_path_factory) -> str:
    from ggzy.alerts import set_status, sync_alerts
    from ggzy.demo import demo_draw
    from ggzy.feeds.load import load_range
    from ggzy.generator import generate
    from ggzy.transform import run_dbt

    url = own_database(warehouse_url, DATABASE)
    landing = tmp_path_factory.mktemp("report-landing")
    generate(landing, FIRST, LAST, scale=0.02, seed=21)
    load_range(landing, FIRST, LAST, url=url)
    run_dbt(["build", "--quiet", "--exclude", "resource_type:test", "resource_type:unit_test"], url=url)
    sync_alerts(url, "report-test")
    with psycopg.connect(url) as conn:
        ids = [r[0] for r in conn.execute("select alert_id from ops.alerts order by alert_id")]
    for i, alert_id in enumerate(ids):  # departments at work: some acknowledged, verified, dismissed, sent on
        if i % 4 == 0:
            continue
        set_status(alert_id, "acknowledged", "测试员", url=url)
        if i % 4 == 2:
            set_status(alert_id, "verified", "测试员", url=url)
        if i % 4 == 3:
            set_status(alert_id, "dismissed", "测试员", note="核实无问题", url=url)
    demo_draw(url, dt.date(2026, 6, 20))  # May and June draws, May's inspections recorded in June
    try:
        from ggzy.supervision.clues import register_clues

        register_clues(url)
    except ImportError:
        pass
    run_dbt(["run", "--quiet", "-s", "fct_alert_handling+", "fct_clues+", "fct_department_scorecard"], url=url)
    yield url
