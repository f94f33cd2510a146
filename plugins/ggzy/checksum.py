"""Order-independent checksums of the warehouse's outputs, to prove idempotency:
rerunning any date, in any order, must leave identical marts.

Load-time metadata (when a row was loaded) legitimately changes on a rerun and is
left out; everything derived from the data is in.
"""

from __future__ import annotations

from ggzy import db

SCHEMAS = ("marts", "disclosure")
VOLATILE = {"loaded_at", "_loaded_at", "built_at", "checked_at", "published_at", "refreshed_at"}
# Ledgers of the runs themselves (how often a batch was delivered, how long a load took,
# one row per run): they record the reruns, so they must change; they are not data marts.
OPERATIONAL = {"marts.fct_run_ledger", "marts.fct_batch_ledger", "marts.fct_load_ledger"}


def tables(conn, schemas: tuple[str, ...] = SCHEMAS) -> list[tuple[str, str]]:
    return conn.execute(
        """select table_schema, table_name from information_schema.tables
           where table_schema = any(%s) and table_type in ('BASE TABLE', 'VIEW')
           order by 1, 2""",
        (list(schemas),),
    ).fetchall()


def table_checksum(conn, schema: str, table: str) -> tuple[int, str]:
    cols = [r[0] for r in conn.execute(
        """select column_name from information_schema.columns
           where table_schema = %s and table_name = %s order by ordinal_position""",
        (schema, table),
    ).fetchall() if r[0] not in VOLATILE]
    row = ", ".join(f'"{c}"' for c in cols)
    n, digest = conn.execute(
        f"""select count(*), coalesce(md5(string_agg(h, '' order by h)), md5(''))
            from (select md5(row({row})::text) as h from "{schema}"."{table}") t"""
    ).fetchone()
    return int(n), digest


def checksums(url: str | None = None, schemas: tuple[str, ...] = SCHEMAS) -> dict[str, tuple[int, str]]:
    with db.connect(url) as conn:
        return {f"{s}.{t}": table_checksum(conn, s, t) for s, t in tables(conn, schemas)
                if f"{s}.{t}" not in OPERATIONAL}
