"""Raw tables derived from the feed contract (docs/architecture.md "Raw layer").

One list-partitioned table per contract file, `raw.<feed>__<stem>`: every
contract column as text exactly as delivered, then the load metadata. One
partition per batch date (`raw.<feed>__<stem>_<YYYYMMDD>`), so a re-delivered
day replaces its partition atomically and late or out-of-order days never touch
each other.

The text and jsonb columns are STORAGE PLAIN: feed rows are short, and a
partition without toastable columns gets no TOAST table and index, which halves
the cost of creating one (the loader creates one per file and day). The loader
switches a partition back to EXTENDED before it stores a record longer than
ggzy.feeds.load.LONG_RECORD bytes, so no row is ever refused for its size. The fixed tables (ledger, quarantine, events) and the validation
functions are in ggzy/sql/010_raw_ops.sql.
"""

from __future__ import annotations

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


def partition_name(ff: c.FeedFile, batch_date: date) -> str:
    return f"{ff.table}_{batch_date:%Y%m%d}"


def parent_ddl(ff: c.FeedFile) -> sql.Composed:
    cols = [sql.SQL("{} text").format(sql.Identifier(n)) for n in ff.column_names]
    cols += [sql.SQL(m) for m in METADATA_DDL]
    return sql.SQL("create table if not exists raw.{} ({}) partition by list (_batch_date)").format(
        sql.Identifier(ff.table), sql.SQL(", ").join(cols))


def ensure_raw_tables(conn: psycopg.Connection) -> None:
    """Create (idempotently) the ops tables and every contract file's raw table.

    Called by ggzy.schema.bootstrap. A column added to the contract later is
    added to the existing table (and so to its partitions); columns are never
    dropped here, because old partitions still hold them.
    """
    ops = (resources.files("ggzy") / "sql" / "010_raw_ops.sql").read_text(encoding="utf-8")
    conn.execute("create schema if not exists raw")
    conn.execute(ops)
    for ff in c.FILES:
        conn.execute(parent_ddl(ff))
        for n in ff.column_names:
            conn.execute(sql.SQL("alter table raw.{} add column if not exists {} text").format(
                sql.Identifier(ff.table), sql.Identifier(n)))
        plain = conn.execute(
            "select array_agg(attname::text) from pg_attribute where attrelid = %s::regclass and attnum > 0 "
            "and not attisdropped and attstorage <> 'p' and atttypid in ('text'::regtype, 'jsonb'::regtype)",
            (f"raw.{ff.table}",)).fetchone()[0]
        if plain:
            conn.execute(sql.SQL("alter table raw.{} {}").format(sql.Identifier(ff.table), sql.SQL(", ").join(
                sql.SQL("alter {} set storage plain").format(sql.Identifier(n)) for n in plain)))
        desc = f"{ff.feed}/{ff.name}: {ff.description}; key {', '.join(ff.key)}. As delivered (text), valid rows only."
        conn.execute(sql.SQL("comment on table raw.{} is {}").format(sql.Identifier(ff.table), sql.Literal(desc)))
    if not conn.autocommit:
        conn.commit()
