"""
### GGZY Watch — nightly supervision run (公共资源交易协同监管 夜间批处理)

For the **batch date** = the run's logical date in Asia/Shanghai (runs at 02:00 for the
previous day's interval, so logical date D processes the batches of day D):

1. `wait_<feed>` — waits for `<landing>/<feed>/<D>/manifest.json` until the feed's
   deadline (`GGZY_FEED_DEADLINE_HOURS` after the end of D); a late feed is recorded in
   `ops.feed_late` and skipped, the other feeds go on.
2. `load_<feed>` — manifest check, COPY into `raw`, row validation with quarantine;
   re-delivered batches replace the day's partition.
3. `quality_gate` — Great Expectations checkpoints on the day's raw batches → `ops.quality_gate`.
4. `dbt_build` — the whole dbt project (staging → marts, data tests; unit tests run in CI)
   through astronomer-cosmos, the longest chain of ready models first (`ggzy.dbt_scheduler`).
5. `sync_alerts` — risk signals → `ops.alerts` (stable ids; raised once, then updated).
6. `notify_alerts` — new alerts at or above `GGZY_NOTIFY_MIN_SEVERITY` sent to their
   departments once (触发式监管, `ops.alert_notifications`); `register_clues` — problem
   clues (问题线索) from verified alerts, upheld complaints, 双随机 and special inspections.
7. `publish_disclosure` — public tables and CSV/XLSX exports, only if the gate passed.
8. `record_run` — the run ledger (`ops.run_ledger`, `ops.run_feed_ledger`).

**Backfill** (scheduler running, e.g. after `make demo`):
`airflow backfill create --dag-id ggzy_nightly --from-date 2026-11-01 --to-date 2026-11-07`
or, without a scheduler, `ggzy backfill --from 2026-11-01 --to 2026-11-07`.
Rerunning a date is safe: every step replaces, never appends.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, dag, task
from cosmos import ProfileConfig
from cosmos.constants import InvocationMode
from cosmos.operators.local import DbtBuildLocalOperator
from cosmos.profiles import PostgresUserPasswordProfileMapping

from ggzy.dag_support import (
    DBT_PROJECT_DIR,
    FEEDS,
    HISTORY_START,
    WAREHOUSE_POOL,
    batch_date_of,
    dbt_cache_dir,
    dbt_profile_args,
    default_args,
    notify_failure,
    sensor_settings,
    warehouse_url,
)

MARTS = Asset("ggzy://warehouse/marts")

profile = ProfileConfig(
    profile_name="ggzy",
    target_name="warehouse",
    profile_mapping=PostgresUserPasswordProfileMapping(conn_id="ggzy_warehouse", profile_args=dbt_profile_args()),
)


class DbtBuildLongestChainFirst(DbtBuildLocalOperator):
    """cosmos's `dbt build`, in this process, starting the longest chain of ready nodes first
    (ggzy.dbt_scheduler; `ggzy dbt` runs dbt the same way)."""

    def execute(self, context, **kwargs):
        from ggzy.dbt_scheduler import install

        install()
        return super().execute(context, **kwargs)


@dag(
    dag_id="ggzy_nightly",
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(*HISTORY_START, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    tags=["ggzy", "nightly", "supervision"],
    default_args=default_args(),
    on_failure_callback=notify_failure,
    doc_md=__doc__,
)
def ggzy_nightly():
    loads = []
    for feed in FEEDS:

        @task.sensor(task_id=f"wait_{feed}", **sensor_settings())
        def wait(feed: str = feed, **context):
            from ggzy.dag_support import wait_for_batch

            return wait_for_batch(feed, context)

        @task(task_id=f"load_{feed}")
        def load(feed: str = feed, **context):
            from ggzy import config, pipeline

            return pipeline.load(warehouse_url(), config.landing(), feed, batch_date_of(context))

        w = wait()
        ld = load()
        w >> ld
        loads.append(ld)

    @task(trigger_rule="all_done")
    def quality_gate(**context):
        from ggzy import pipeline

        return pipeline.quality_gate(warehouse_url(), batch_date_of(context), context["run_id"])

    dbt_build = DbtBuildLongestChainFirst(
        task_id="dbt_build",
        invocation_mode=InvocationMode.DBT_RUNNER,
        project_dir=DBT_PROJECT_DIR,
        profile_config=profile,
        install_deps=False,
        cache_dir=dbt_cache_dir(),
        # unit tests check the models' logic on fixed inputs: CI runs them on every change
        # (tests/dbt); a night's run tests the data (data tests), as dbt recommends
        dbt_cmd_flags=["--exclude-resource-type", "unit_test"],
        # data tests on incremental staging read the night's rows, the whole tables on Sundays
        # (macros/data_tests_scope.sql; `ggzy dbt build` by hand tests everything)
        vars={"data_tests_scope": "night"},
        trigger_rule="all_done",
        pool=WAREHOUSE_POOL,
        outlets=[MARTS],
    )

    @task(pool=WAREHOUSE_POOL)
    def sync_alerts(**context):
        from ggzy import pipeline

        return pipeline.sync_alerts(warehouse_url(), context["run_id"])

    @task
    def notify_alerts(**context):
        from ggzy.supervision.notify import notify_alerts as _notify

        # a failed delivery is recorded and retried on the next run; it does not fail the night
        return _notify(warehouse_url(), context["run_id"])

    @task
    def register_clues(**context):
        from ggzy.supervision.clues import register_clues as _register

        return _register(warehouse_url())

    @task(pool=WAREHOUSE_POOL)
    def publish_disclosure(**context):
        from ggzy import pipeline

        return pipeline.publish(warehouse_url(), batch_date_of(context))

    @task(trigger_rule="all_done")
    def record_run(**context):
        from ggzy.dag_support import record_run as _record

        _record(context)

    gate = quality_gate()
    alerts = sync_alerts()
    published = publish_disclosure()
    ledger = record_run()
    loads >> gate >> dbt_build >> alerts >> published >> ledger
    alerts >> [notify_alerts(), register_clues()] >> ledger


ggzy_nightly()
