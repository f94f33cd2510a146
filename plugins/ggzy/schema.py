"""Idempotent warehouse bootstrap: schemas, helper functions, raw and ops tables.

SQL files in ggzy/sql/ run in name order; each must be safe to run again. The raw
tables are derived from the feed contract (ggzy.feeds.raw).
"""

from __future__ import annotations

from importlib import resources

from ggzy import db


def sql_files() -> list[tuple[str, str]]:
    root = resources.files("ggzy") / "sql"
    files = sorted((p.name, p.read_text(encoding="utf-8")) for p in root.iterdir() if p.name.endswith(".sql"))
    return files


def bootstrap(url: str | None = None) -> None:
    with db.connect(url, autocommit=True) as conn:
        # Serialise concurrent bootstraps (parallel tasks of one run).
        conn.execute("select pg_advisory_lock(74290001)")
        try:
            for _name, text in sql_files():
                conn.execute(text)
            from ggzy import pseudonym

            pseudonym.install(conn)  # the key of dbt's person_key, in a schema only the pipeline reads
            try:
                from ggzy.feeds.raw import ensure_raw_tables
            except ImportError:  # the loader is not installed yet
                return
            ensure_raw_tables(conn)
        finally:
            conn.execute("select pg_advisory_unlock(74290001)")
