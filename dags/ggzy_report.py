"""
### GGZY Watch — 大数据分析报告 (the joint meeting's report), monthly

On the 2nd of every month at 08:00 Asia/Shanghai (after the nightly run of the 1st has
loaded the month's last day), for the run's logical date:

1. `periods` — the month before, plus the quarter, half-year and year that month closes
   (after June: 2026-06, 2026-Q2, 2026-H1; after December also the year).
2. `issue_report` (one mapped task per period) — `ggzy.report.scheduled.issue_once`: the
   Chinese PDF (every figure with its mart), archived under `$GGZY_HOME/reports/<period>/`
   with its inputs and sha256 in `ops.reports` (run_id = this run).

**Idempotent per run**: a retry or rerun of the same run returns the report it issued;
a new run (or `ggzy report`) issues a new copy, and the archive keeps every copy.
**Backfill**: `airflow backfill create --dag-id ggzy_report --from-date 2026-11-02
--to-date 2026-11-02` (reports on October 2026), or by hand: `ggzy report --period 2026-10`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task

from ggzy.dag_support import HISTORY_START, default_args, notify_failure, warehouse_url


@dag(
    dag_id="ggzy_report",
    schedule=CronTriggerTimetable("0 8 2 * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(*HISTORY_START, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    tags=["ggzy", "report", "monthly"],
    default_args=default_args(),
    on_failure_callback=notify_failure,
    doc_md=__doc__,
)
def ggzy_report():
    @task
    def periods(**context) -> list[str]:
        from ggzy.report.scheduled import periods_of

        return periods_of(context["logical_date"])

    @task(max_active_tis_per_dagrun=1)
    def issue_report(period: str, **context) -> dict:
        from ggzy.report.scheduled import issue_once

        return issue_once(warehouse_url(), period, context["run_id"])

    issue_report.expand(period=periods())


ggzy_report()
