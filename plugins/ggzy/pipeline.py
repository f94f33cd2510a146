"""The nightly run's steps as plain functions, so the DAG file stays configuration
and the same steps run from `ggzy` outside Airflow.

Every step is idempotent for its batch date: loading replaces the date's partition,
dbt updates staging incrementally (the keys of the batches loaded since its last run,
judged over every delivered version: the same rows as a full rebuild) and rebuilds the
layers above with the analysis date fixed by the data (not the clock), alerts are upserted by a stable id, publication is keyed by date.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

from ggzy import config, db, settings

log = logging.getLogger(__name__)



def batch_dir(landing: Path, feed: str, batch_date: dt.date) -> Path:
    return Path(landing) / feed / batch_date.isoformat()


def batch_ready(landing: Path, feed: str, batch_date: dt.date) -> bool:
    """A batch is delivered when its manifest is there (files are checked by the load)."""
    return (batch_dir(landing, feed, batch_date) / "manifest.json").is_file()


def feed_deadline(batch_date: dt.date) -> dt.datetime:
    """When a day's batch is late: GGZY_FEED_DEADLINE_HOURS after the end of its day
    (Asia/Shanghai); default 30 h, i.e. 06:00 two days later."""
    import zoneinfo

    hours = settings.FEED_DEADLINE_HOURS.number()
    tz = zoneinfo.ZoneInfo(config.TIMEZONE)
    end_of_day = dt.datetime.combine(batch_date + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return end_of_day + dt.timedelta(hours=hours)


def record_feed_late(url: str, feed: str, batch_date: dt.date, run_id: str) -> None:
    with db.transaction(url) as conn:
        conn.execute(
            """
            insert into ops.feed_late (feed, batch_date, run_id, detected_at, deadline)
            values (%s, %s, %s, now(), %s)
            on conflict (feed, batch_date) do update set run_id = excluded.run_id, detected_at = excluded.detected_at
            """,
            (feed, batch_date, run_id, feed_deadline(batch_date)),
        )


def load(url: str, landing: Path, feed: str, batch_date: dt.date) -> dict[str, Any]:
    from ggzy.feeds.load import load_batch

    result = load_batch(feed, batch_date, Path(landing), url=url)
    return _jsonable(result)


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "__dataclass_fields__"):
        import dataclasses

        return json.loads(json.dumps(dataclasses.asdict(obj), default=str))
    return json.loads(json.dumps(obj, default=str))


def quality_gate(url: str, batch_date: dt.date, run_id: str) -> dict[str, Any]:
    """Great Expectations checkpoints on the day's raw batches; the verdict is kept in
    ops.quality_gate and decides publication, not the risk computation."""
    from ggzy.quality import run_gate

    return run_gate(url, batch_date, run_id)


def sync_alerts(url: str, run_id: str) -> dict[str, Any]:
    """Upsert alerts from the risk marts, then mark those seen in this run (the active ones and
    those it cleared) with whether the data under them passed the quality gate (a failed gate
    does not stop the signals)."""
    from ggzy.alerts import sync_alerts as _sync

    out = _jsonable(_sync(url, run_id))
    with db.transaction(url) as conn:
        verified = conn.execute(
            """select coalesce((select passed from ops.quality_gate g
                                where g.batch_date = (select max(batch_date) from raw.batches where status = 'loaded')
                                order by checked_at desc limit 1), false)"""
        ).fetchone()[0]
        # the alerts this run saw: every active one (a sync leaves the unchanged ones unwritten)
        # and those it cleared; only those whose mark differs are written, not every alert
        conn.execute("""update ops.alerts set data_verified = %(v)s
                        where (is_active or last_run_id = %(run)s) and data_verified is distinct from %(v)s""",
                     {"v": verified, "run": run_id})
    out["data_verified"] = verified
    return out


def publish(url: str, batch_date: dt.date) -> dict[str, Any]:
    """The night's publication, summarised for the run ledger: the files written this
    night; the kept ones are counted (every file is listed in ops.publications and in the
    folder's manifest.json, and that list grows with the history)."""
    from ggzy.disclosure import publish as _publish

    out = _jsonable(_publish(batch_date, url=url))
    files = out.pop("files", [])
    out["files_unchanged"] = sum(1 for f in files if f.get("unchanged"))
    out["files"] = [f for f in files if not f.get("unchanged")]
    return out


def record_run(url: str, run_id: str, batch_date: dt.date, task_states: dict[str, str],
               started_at: dt.datetime | None, extra: dict[str, Any] | None = None) -> None:
    """One row per run in ops.run_ledger, one per run x feed in ops.run_feed_ledger."""
    with db.transaction(url) as conn:
        conn.execute(
            """
            insert into ops.run_ledger (run_id, batch_date, started_at, finished_at, task_states, details)
            values (%s, %s, %s, now(), %s, %s)
            on conflict (run_id) do update set finished_at = excluded.finished_at,
                task_states = excluded.task_states, details = excluded.details
            """,
            (run_id, batch_date, started_at, json.dumps(task_states), json.dumps(extra or {}, default=str)),
        )
        conn.execute(
            """
            insert into ops.run_feed_ledger (run_id, feed, batch_date, status, files, rows_delivered,
                                             rows_loaded, rows_quarantined)
            select %(run_id)s, b.feed, b.batch_date, b.status, b.files,
                   b.rows_delivered, b.rows_loaded, b.rows_quarantined
            from raw.batch_summary b
            where b.batch_date = %(d)s
            on conflict (run_id, feed) do update set status = excluded.status, files = excluded.files,
                rows_delivered = excluded.rows_delivered, rows_loaded = excluded.rows_loaded,
                rows_quarantined = excluded.rows_quarantined
            """,
            {"run_id": run_id, "d": batch_date},
        )
