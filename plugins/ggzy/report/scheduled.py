"""The monthly report run (dags/ggzy_report.py): on the 2nd of a month, the report of the
month before, and of the quarter, half-year and year that month closes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum

from ggzy import db
from ggzy.config import TIMEZONE
from ggzy.report.period import Period, closing_with, month_before


def periods_of(logical_date: dt.datetime) -> list[str]:
    """The periods a run reports on: the month before its logical date's month (Asia/Shanghai) and the
    longer periods ending with it."""
    day = pendulum.instance(logical_date).in_timezone(TIMEZONE).date()
    return [p.key for p in closing_with(month_before(dt.date(day.year, day.month, day.day)))]


def issue_once(url: str, period: str, run_id: str) -> dict[str, Any]:
    """Issue the report of `period` for this Airflow run; a retry or rerun of the same run returns the report
    it already issued instead of archiving a second copy."""
    from ggzy.report import issue, parse

    with db.connect(url) as conn:
        done = conn.execute("""select report_id, pdf_path, pdf_sha256, pages from ops.reports
                               where period = %s and run_id = %s order by report_id limit 1""",
                            (period, run_id)).fetchone()
    if done:
        return {"period": period, "report_id": done[0], "path": done[1], "sha256": done[2], "pages": done[3],
                "issued": False}
    p: Period = parse(period)
    r = issue(p, issued_by="Airflow ggzy_report", run_id=run_id, url=url)
    return {"period": period, "report_id": r.report_id, "path": str(r.path), "sha256": r.sha256, "pages": r.pages,
            "seconds": round(r.seconds, 1), "issued": True}
