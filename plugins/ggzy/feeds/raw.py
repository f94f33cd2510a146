"""Raw tables derived from the feed contract (docs/architecture.md "Raw layer").

One list-partitioned table per contract file, `raw.<feed>__<stem>`: every
contract column as text exactly as delivered, then the load metadata
(_batch_date, _file, _line, _loaded_at, _extra). Partitioned by list on
`_batch_date` with ONE partition per contract file and calendar MONTH
(`raw.<feed>__<stem>_<YYYYMM>`, bound: every day of the month), created once,
the first time a batch of that month is loaded, in its own short transaction.

Why months and not days: a partition per file and day (2,774 a year at scale 1)
cost a catalog change per delivered file, more than COPYing its rows
(docs/benchmarks.md, "Load"). With month partitions the loader COPYs straight
into an existing table; a re-delivered day is replaced by `DELETE ... WHERE
_batch_date = day` plus the new COPY inside the batch's one transaction (only
when the ledger says the day was loaded before, so a first load pays nothing).
Late and out-of-order days land in their own month's partition and touch only
their own rows.

A month partition's `_batch_date` defaults to the loader's transaction-local
setting `ggzy.load_batch_date`, `_file` to the contract file's name (the only
name a delivered file can have) and `_loaded_at` to now(), so the loader's COPY
sends only `_line` and the delivered columns. Inserting through the parent needs every metadata value
explicitly, as before. Partitions left by the older layout (one per day,
`..._YYYYMMDD`) are merged into their month by `merge_daily_partitions`
(run by ensure_raw_tables, and by the loader if it meets one).

The fixed tables (ledger, quarantine, events) and the validation functions are
in ggzy/sql/010_raw_ops.sql.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from importlib import resources

import psycopg
from psycopg import sql

from ggzy.feeds import contract as c

METADATA_DDL = (
    "_batch_date date not null",
    "_file text not null",
    "_line integer not null",
    "_loaded_at timestamptz not null",
    "_extra jsonb",
)
DAY_SETTING = "ggzy.load_batch_date"
_DAILY = re.compile(r"_(\d{4})(\d{2})(\d{2})$")
_MONTHLY = re.compile(r"_(\d{4})(\d{2})$")


def partition_name(ff: c.FeedFile, batch_date: date) -> str:
    """The month partition holding a batch date's rows of a contract file."""
    return f"{ff.table}_{batch_date:%Y%m}"


def parent_ddl(ff: c.FeedFile) -> sql.Composed:
    cols = [sql.SQL("{} text").format(sql.Identifier(n)) for n in ff.column_names]
    cols += [sql.SQL(m) for m in METADATA_DDL]
    return sql.SQL("create table if not exists raw.{} ({}) partition by list (_batch_date)").format(
        sql.Identifier(ff.table), sql.SQL(", ").join(cols))


def partition_ddl(ff: c.FeedFile, batch_date: date) -> str:
    """CREATE TABLE IF NOT EXISTS of the month partition (with the loader's defaults)."""
    y, m = batch_date.year, batch_date.month
    days = ", ".join(f"'{date(y, m, d).isoformat()}'" for d in range(1, calendar.monthrange(y, m)[1] + 1))
    return (f"create table if not exists raw.{_q(partition_name(ff, batch_date))} partition of raw.{_q(ff.table)} "
            f"(_batch_date default current_setting('{DAY_SETTING}')::date, "
            f"_file default {sql.Literal(ff.name).as_string(None)}, _loaded_at default now()) "
            f"for values in ({days})")


def partition_defaults_ddl(ff: c.FeedFile, batch_date: date) -> str:
    """The loader's defaults of a month partition, set again (idempotent; run by
    ensure_raw_tables, so a partition made by an earlier version gets them too)."""
    return (f"alter table raw.{_q(partition_name(ff, batch_date))} "
            f"alter _batch_date set default current_setting('{DAY_SETTING}')::date, "
            f"alter _file set default {sql.Literal(ff.name).as_string(None)}, alter _loaded_at set default now()")


def extended_storage(conn: psycopg.Connection, ff: c.FeedFile) -> None:
    """Default (EXTENDED) storage for the raw table's text and jsonb columns. The
    older layout kept them PLAIN (no TOAST table per day partition), which would
    refuse a record longer than a page; partitions inherit the parent's storage."""
    plain = conn.execute(
        "select array_agg(attname::text) from pg_attribute where attrelid = %s::regclass and attnum > 0 "
        "and not attisdropped and attstorage = 'p' and atttypid in ('text'::regtype, 'jsonb'::regtype)",
        (f"raw.{ff.table}",)).fetchone()[0]
    if plain:
        conn.execute(sql.SQL("alter table raw.{} {}").format(sql.Identifier(ff.table), sql.SQL(", ").join(
            sql.SQL("alter {} set storage extended").format(sql.Identifier(n)) for n in plain)))


def _q(name: str) -> str:
    return sql.Identifier(name).as_string(None)


def merge_daily_partitions(conn: psycopg.Connection, ff: c.FeedFile) -> int:
    """Move the rows of older one-day partitions (`<table>_YYYYMMDD`) into their
    month partitions and drop the day partitions. Returns how many were merged.
    Runs in the caller's transaction state (autocommit: each month on its own)."""
    rows = conn.execute(
        "select c.relname::text from pg_inherits i join pg_class c on c.oid = i.inhrelid "
        "where i.inhparent = %s::regclass", (f"raw.{ff.table}",)).fetchall()
    months: dict[tuple[int, int], list[str]] = {}
    for (name,) in rows:
        m = _DAILY.search(name)
        if m and name == f"{ff.table}_{m.group(1)}{m.group(2)}{m.group(3)}":
            months.setdefault((int(m.group(1)), int(m.group(2))), []).append(name)
    cols = ", ".join(_q(n) for n in (*ff.column_names, "_batch_date", "_file", "_line", "_loaded_at", "_extra"))
    for (y, mo), names in sorted(months.items()):
        with conn.transaction():
            for n in names:
                conn.execute(f"alter table raw.{_q(ff.table)} detach partition raw.{_q(n)}")
            conn.execute(partition_ddl(ff, date(y, mo, 1)))
            for n in names:
                conn.execute(f"insert into raw.{_q(partition_name(ff, date(y, mo, 1)))} ({cols}) "
                             f"select {cols} from raw.{_q(n)}")
                conn.execute(f"drop table raw.{_q(n)}")
    return sum(map(len, months.values()))


def ensure_raw_tables(conn: psycopg.Connection) -> None:
    """Create (idempotently) the ops tables and every contract file's raw table.

    Called by ggzy.schema.bootstrap. A column added to the contract later is
    added to the existing table (and so to its partitions); columns are never
    dropped here, because old partitions still hold them. Columns use the default
    (EXTENDED) storage; day partitions of the older layout are merged into months.
    """
    ops = (resources.files("ggzy") / "sql" / "010_raw_ops.sql").read_text(encoding="utf-8")
    conn.execute("create schema if not exists raw")
    conn.execute(ops)
    for ff in c.FILES:
        conn.execute(parent_ddl(ff))
        for n in ff.column_names:
            conn.execute(sql.SQL("alter table raw.{} add column if not exists {} text").format(
                sql.Identifier(ff.table), sql.Identifier(n)))
        extended_storage(conn, ff)
        desc = f"{ff.feed}/{ff.name}: {ff.description}; key {', '.join(ff.key)}. As delivered (text), valid rows only."
        conn.execute(sql.SQL("comment on table raw.{} is {}").format(sql.Identifier(ff.table), sql.Literal(desc)))
    if not conn.autocommit:
        conn.commit()
    for ff in c.FILES:
        merge_daily_partitions(conn, ff)
        months = conn.execute(
            "select c.relname::text from pg_inherits i join pg_class c on c.oid = i.inhrelid "
            "where i.inhparent = %s::regclass", (f"raw.{ff.table}",)).fetchall()
        for (name,) in months:
            m = _MONTHLY.search(name)
            if m and name == f"{ff.table}_{m.group(1)}{m.group(2)}":
                conn.execute(partition_defaults_ddl(ff, date(int(m.group(1)), int(m.group(2)), 1)))
    if not conn.autocommit:
        conn.commit()
