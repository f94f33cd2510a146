"""
### GGZY Watch — 双随机一公开 monthly draw (抽查对象与执法人员随机抽取)

On the 1st of every month at 09:00 Asia/Shanghai, for the period = the month of the
run's logical date:

1. `plans_due` — the plans of `reference.sampling_plan` due in the period (monthly plans
   every month, quarterly plans in January, April, July, October).
2. `draw_plan` (one mapped task per plan, one at a time) — `ggzy.sampling.store.perform_draw`
   with the seed committed and escrowed for (plan, period) beforehand
   (`ggzy draw seed-commit --plan P --period YYYY-MM --seed S`), then `ggzy verify`. A
   plan without a committed seed fails loudly: a draw without a prior public seed is
   not 公开. The snapshot is the object directory as of the last nightly run.

**Idempotent**: a period is drawn once; rerunning returns the stored draw.
**Backfill**: `airflow backfill create --dag-id ggzy_sampling --from-date 2026-11-01
--to-date 2026-11-01` (seeds must be committed for those periods), or by hand:
`ggzy draw --plan TND-M --period 2026-11`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task

from ggzy.dag_support import HISTORY_START, default_args, notify_failure, warehouse_url


@dag(
    dag_id="ggzy_sampling",
    schedule=CronTriggerTimetable("0 9 1 * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(*HISTORY_START, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    tags=["ggzy", "sampling", "monthly"],
    default_args=default_args(),
    on_failure_callback=notify_failure,
    doc_md=__doc__,
)
def ggzy_sampling():
    @task
    def plans_due(**context) -> list[str]:
        from ggzy.sampling.scheduled import period_of, plans_due

        return plans_due(warehouse_url(), period_of(context["logical_date"]))

    @task(max_active_tis_per_dagrun=1)
    def draw_plan(plan_id: str, **context) -> dict:
        from ggzy.sampling.scheduled import draw_and_verify, period_of

        return draw_and_verify(warehouse_url(), plan_id, period_of(context["logical_date"]))

    draw_plan.expand(plan_id=plans_due())


ggzy_sampling()
