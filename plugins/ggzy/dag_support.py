"""What the DAG files need beyond configuration: the batch date of a run, the
sensor's deadline logic, failure notifications, the run ledger.

Kept light at import (the DAG processor imports it on every parse): no DB calls,
no heavy libraries at module level.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.request
from datetime import timedelta
from typing import Any

from ggzy import config, settings
from ggzy.feeds.contract import FEEDS  # the contract names the feeds once

log = logging.getLogger(__name__)


DBT_PROJECT_DIR = str(config.dbt_project_dir())
WAREHOUSE_CONN_ID = "ggzy_warehouse"
NOTIFY_CONN_ID = "ggzy_notify"
WAREHOUSE_POOL = "ggzy_warehouse_build"  # one slot; created by `ggzy airflow up` / ggzy.services


def dbt_profile_args() -> dict[str, Any]:
    """What the night's dbt profile (cosmos maps the connection's login and place) takes from
    the settings: the schema of profiles.yml and the same threads as `ggzy dbt` (cosmos's
    default is one thread: every model and data test one after the other)."""
    return {"schema": "analytics", "threads": settings.DBT_THREADS.integer()}


def dbt_cache_dir():
    """Where cosmos keeps the last night's partial parse (dbt's partial_parse.msgpack): the next
    night parses only what changed instead of the whole project (~10 s of every night). A
    path only: cosmos creates it when a night runs."""
    return config.home() / "run" / "cosmos"


# The first batch date the DAGs run for: the first year of the working-day calendar.
# A DagRun whose logical date is before its DAG's start_date gets no task instances and
# is marked successful with nothing done, so the start must reach back as far as any
# backfill can (catchup is off: the scheduler never runs these past dates by itself).
HISTORY_START = (2018, 1, 1)


def default_args() -> dict[str, Any]:
    return {
        "owner": "ggzy-data-engineering",
        "retries": settings.TASK_RETRIES.integer(),
        "retry_delay": timedelta(seconds=settings.RETRY_DELAY_SECONDS.integer()),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
    }


def sensor_settings() -> dict[str, Any]:
    """Reschedule mode frees the worker slot between pokes; the deadline itself is
    enforced in wait_for_batch (a late feed is skipped, not failed)."""
    return {
        "poke_interval": settings.SENSOR_POKE_SECONDS.integer(),
        "timeout": settings.SENSOR_TIMEOUT_SECONDS.integer(),
        "mode": settings.SENSOR_MODE.text(),
        "retries": 0,
    }


def batch_date_of(context: dict[str, Any]) -> dt.date:
    """The batch date of a run: `params.batch_date`/conf if given, else the logical
    date (= data interval start) in Asia/Shanghai."""
    conf = (context.get("dag_run").conf if context.get("dag_run") is not None else None) or {}
    explicit = conf.get("batch_date") or (context.get("params") or {}).get("batch_date")
    if explicit:
        return dt.date.fromisoformat(str(explicit))
    import pendulum

    logical = context.get("logical_date") or context.get("data_interval_start")
    return pendulum.instance(logical).in_timezone(config.TIMEZONE).date()


def warehouse_url() -> str:
    """The warehouse from the Airflow connection `ggzy_warehouse` (AIRFLOW_CONN_GGZY_WAREHOUSE,
    set by ggzy.airflow_env from the warehouse URL), as the same libpq URL: Airflow parses
    the URI into login, password and extras (sslmode, ...) and get_uri() encodes them back."""
    from airflow.sdk import BaseHook

    return config.libpq_url(BaseHook.get_connection(WAREHOUSE_CONN_ID).get_uri())


def wait_for_batch(feed: str, context: dict[str, Any]):
    """Sensor body: done when the manifest is there; past the deadline, record
    'feed late' and skip this feed so that the others go on."""
    from airflow.sdk import PokeReturnValue
    from airflow.sdk.exceptions import AirflowSkipException

    from ggzy import pipeline

    batch_date = batch_date_of(context)
    landing = config.landing()
    if pipeline.batch_ready(landing, feed, batch_date):
        return PokeReturnValue(is_done=True, xcom_value=str(pipeline.batch_dir(landing, feed, batch_date)))
    deadline = pipeline.feed_deadline(batch_date)
    if dt.datetime.now(dt.UTC) >= deadline:
        pipeline.record_feed_late(warehouse_url(), feed, batch_date, context["run_id"])
        msg = f"feed late: {feed} batch {batch_date} not delivered to {landing} by {deadline.isoformat()}"
        log.warning(msg)
        notify(f"[GGZY] {msg}")
        raise AirflowSkipException(msg)
    return PokeReturnValue(is_done=False)


def notify(text: str) -> None:
    """Send a message to the notification connection, if one is configured.

    AIRFLOW_CONN_GGZY_NOTIFY may be an http(s) URL (a webhook receiving JSON
    {"text": ...}) or an smtp:// URL with `?to=a@b` (plain e-mail)."""
    sent = deliver(text)
    if sent is not None and sent[2] is not None:  # a broken notifier must never fail the pipeline
        log.error("notification failed: %s", sent[2])


def deliver(text: str, fields: dict[str, Any] | None = None) -> tuple[str, str, str | None] | None:
    """Send `text` (and, to a webhook, the extra JSON `fields`) to AIRFLOW_CONN_GGZY_NOTIFY.

    Returns None when no connection is configured, else (channel, recipient, error):
    channel 'webhook' or 'email', the recipient without credentials (webhook host and
    path, or the e-mail address), error None on delivery. Never raises: the caller
    records the result (ggzy.supervision.notify keeps it in ops.alert_notifications)."""
    from urllib.parse import parse_qs, urlsplit

    raw = settings.NOTIFY_CONN.value()
    if not raw:
        return None
    p = urlsplit(raw)
    if p.scheme in ("http", "https"):
        channel, recipient = "webhook", f"{p.scheme}://{p.hostname}{f':{p.port}' if p.port else ''}{p.path}"
    elif p.scheme in ("smtp", "smtps"):
        channel, recipient = "email", parse_qs(p.query).get("to", [""])[0]
    else:
        return ("webhook", p.scheme or "?", f"unsupported notification connection scheme {p.scheme!r}")
    try:
        if channel == "webhook":
            body = json.dumps({"text": text, **(fields or {})}, ensure_ascii=False, default=str).encode()
            req = urllib.request.Request(raw, data=body, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
            urllib.request.urlopen(req, timeout=10).read()
        else:
            _send_mail(raw, text)
    except Exception as exc:
        return (channel, recipient, f"{type(exc).__name__}: {exc}")
    return (channel, recipient, None)


def _send_mail(url: str, text: str) -> None:
    import smtplib
    from email.message import EmailMessage
    from urllib.parse import parse_qs, urlsplit

    p = urlsplit(url)
    q = parse_qs(p.query)
    msg = EmailMessage()
    msg["Subject"] = text.splitlines()[0][:120]
    msg["From"] = q.get("from", ["ggzy-watch@localhost"])[0]
    msg["To"] = q.get("to", [""])[0]
    msg.set_content(text)
    cls = smtplib.SMTP_SSL if p.scheme == "smtps" else smtplib.SMTP
    with cls(p.hostname, p.port or (465 if p.scheme == "smtps" else 25), timeout=10) as s:
        if p.username:
            s.login(p.username, p.password or "")
        s.send_message(msg)


def notify_failure(context: dict[str, Any]) -> None:
    """DAG/task failure callback: who failed, for which batch date, and where to look."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    text = (
        f"[GGZY] run failed: dag={getattr(dag_run, 'dag_id', '?')} run={getattr(dag_run, 'run_id', '?')} "
        f"task={getattr(ti, 'task_id', '?')} reason={context.get('reason') or context.get('exception')}"
    )
    log.error(text)
    notify(text)


def record_run(context: dict[str, Any]) -> None:
    from ggzy import pipeline

    ti = context["ti"]
    run_id = context["run_id"]
    states: dict[str, str] = {}
    try:
        got = ti.get_task_states(dag_id=ti.dag_id, run_ids=[run_id])
        states = {k: str(v) for k, v in (got.get(run_id) or {}).items()}
    except Exception as exc:  # the ledger must still be written
        log.warning("could not read task states: %s", exc)
    details: dict[str, Any] = {}
    for task_id in ("quality_gate", "sync_alerts", "notify_alerts", "register_clues", "publish_disclosure",
                    *(f"load_{f}" for f in FEEDS)):
        try:
            details[task_id] = ti.xcom_pull(task_ids=task_id)
        except Exception:
            details[task_id] = None
    dag_run = context.get("dag_run")
    # `airflow dags test` (ggzy run / ggzy backfill) starts the DagRun "at" its logical
    # date; a real run never starts before it is due (run_after): the later of the two
    started = max((t for t in (getattr(dag_run, "start_date", None), getattr(dag_run, "run_after", None))
                   if t is not None), default=None)
    pipeline.record_run(warehouse_url(), run_id, batch_date_of(context), states, started, details)
    failed = [t for t, s in states.items() if s in ("failed", "upstream_failed")]
    if failed:
        notify(f"[GGZY] run {run_id} finished with failed tasks: {', '.join(sorted(failed))}")
        # The ledger task is the run's last task: left green, it would make a night whose dbt
        # build failed (alerts and publication never ran) a successful DAG run in Airflow and
        # in `ggzy run`. Recorded and notified above; failed here, without retries.
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(f"run {run_id}: failed tasks {', '.join(sorted(failed))} (recorded in ops.run_ledger)")
