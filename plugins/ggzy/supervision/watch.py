"""Tracking mode (跟踪模式, Yunnan 2020 (十五), Yunnan 2019): the office names key projects,
entities and experts; a watched party or project appearing in a lot dated on or after its
`watch_from` raises an alert (marts.fct_watch_signals, synced with the risk signals).
Projects evaluated and awarded separately (评定分离) are under key supervision by rule
(Xuan'en 二（五）), without being listed here. Every add and remove is audited in
ops.watch_events (who, when, why); a removed party keeps its row, inactive.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ggzy import db
from ggzy.supervision import SupervisionError, require_actor

PARTY_TYPES = ("project", "entity", "expert")
# where a party must exist (a typo would watch nobody); checked when the table is built
_KNOWN = {
    "entity": ("staging.stg_trading_centre__entities", "entity_id"),
    "expert": ("staging.stg_trading_centre__experts", "expert_id"),
    "project": ("staging.stg_trading_centre__tenders", "project_code"),
}


def add(party_type: str, party_id: str, reason: str, by: str, watch_from: dt.date | None = None,
        url: str | None = None) -> dict[str, Any]:
    by = require_actor(by)
    if party_type not in PARTY_TYPES:
        raise SupervisionError(f"party type {party_type!r}: one of {', '.join(PARTY_TYPES)}")
    party_id = party_id.strip()
    if not reason or not reason.strip():
        raise SupervisionError("say why the party is watched (--reason)")
    with db.transaction(url) as conn:
        table, column = _KNOWN[party_type]
        if conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is not None and not conn.execute(
                f"select 1 from {table} where {column} = %s limit 1", (party_id,)).fetchone():
            raise SupervisionError(f"no {party_type} {party_id!r} in {table}")
        row = conn.execute(
            """insert into ops.watch_list (party_type, party_id, reason, watch_from, added_by)
               values (%s, %s, %s, coalesce(%s, (now() at time zone 'Asia/Shanghai')::date), %s)
               on conflict (party_type, party_id) do update set
                   reason = excluded.reason, watch_from = excluded.watch_from, is_active = true,
                   added_at = now(), added_by = excluded.added_by, removed_at = null, removed_by = null
               returning watch_from""",
            (party_type, party_id, reason.strip(), watch_from, by)).fetchone()
        conn.execute("insert into ops.watch_events (party_type, party_id, event, actor, note) values (%s, %s, 'add', %s, %s)",
                     (party_type, party_id, by, f"{reason.strip()} (from {row[0]})"))
    return {"party_type": party_type, "party_id": party_id, "watch_from": row[0]}


def remove(party_type: str, party_id: str, by: str, note: str | None = None, url: str | None = None) -> None:
    by = require_actor(by)
    with db.transaction(url) as conn:
        n = conn.execute("""update ops.watch_list set is_active = false, removed_at = now(), removed_by = %s
                            where party_type = %s and party_id = %s and is_active""",
                         (by, party_type, party_id.strip())).rowcount
        if not n:
            raise SupervisionError(f"{party_type} {party_id} is not on the watch list")
        conn.execute("insert into ops.watch_events (party_type, party_id, event, actor, note) values (%s, %s, 'remove', %s, %s)",
                     (party_type, party_id.strip(), by, note))


def listed(include_removed: bool = False, url: str | None = None) -> list[dict[str, Any]]:
    with db.connect(url) as conn:
        cur = conn.execute(
            f"""select party_type, party_id, reason, watch_from, is_active, added_at, added_by, removed_at, removed_by
                from ops.watch_list {'' if include_removed else 'where is_active'} order by party_type, party_id""")
        cols = [d.name for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def history(url: str | None = None) -> list[dict[str, Any]]:
    with db.connect(url) as conn:
        cur = conn.execute("select at, event, party_type, party_id, actor, note from ops.watch_events order by at, event_id")
        cols = [d.name for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
