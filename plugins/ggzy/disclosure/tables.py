"""What is published: the tables of schema `disclosure`, their Chinese headers, and the
files each is cut into (its partitions), with a digest of each partition computed in SQL.

- Headers come from the column comments that dbt persists from the model docs
  (convention: a description starts with its Chinese header, then " — "), so a table
  added to the schema later (e.g. disclosure/sampling/) gets headers by its own docs.
- A table with a date that places each row in time is published one file per month of
  that date (PARTITION_BY): a night changes the recent months and leaves the old ones,
  so only those are exported again. A table without one (a seed, a short list) is one file.
- `as_of_date` is the same on every row of a publication (publication checks it equals
  the batch date) and changes every night: it is stated once, in the manifest, and left
  out of the files and digests, or every file would change every night.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

SCHEMA = "disclosure"
CJK = re.compile(r"[\u3400-\u9fff]")
AS_OF = "as_of_date"
UNDATED = "undated"  # the partition of rows whose date is empty

# Table -> the date column whose month (YYYY-MM) names a row's file. Chosen per table as
# the date a reader looks a row up by, and the one old rows keep: a later night adds
# rows to recent months and rarely touches old ones.
PARTITION_BY = {
    "tender_results": "awarded_on",  # 中标结果公示: month of the award
    "bad_conduct_notices": "decided_on",  # 不良行为公示: month of the decision
    "bad_conduct_withdrawals": "decided_on",
    "blacklist_exposure": "effective_from",  # 曝光台: month the record took effect
    "red_list": "effective_from",
    "complaint_handling_stats": "stat_month",  # already one row per department x month
}


@dataclass(frozen=True)
class Column:
    name: str
    header: str


@dataclass(frozen=True)
class TableSpec:
    """A disclosure table as published: title, exported columns (without as_of_date),
    partition column (None: one file) and whether the table carries an as_of_date."""

    relation: str
    title: str
    columns: tuple[Column, ...]
    partition_by: str | None = None
    as_of: bool = False
    types: tuple[str, ...] = ()  # SQL types of `columns` (a change of type re-exports)

    @property
    def table(self) -> str:
        return self.relation.split(".", 1)[1]

    def file_stem(self, partition: str | None) -> str:
        """tender_results/2026-02 for a month of a partitioned table, the table's name otherwise."""
        return self.table if partition is None else f"{self.table}/{partition}"


def disclosure_relations(conn: psycopg.Connection, schema: str = SCHEMA) -> list[str]:
    rows = conn.execute(
        """select n.nspname || '.' || c.relname
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'p', 'f') and not c.relispartition
           order by c.relname""",
        (schema,),
    ).fetchall()
    return [r[0] for r in rows]


def header_from_comment(comment: str | None, fallback: str) -> str:
    """The Chinese header of a column: the first ' — '-separated part of its description
    that contains Chinese, else the column name."""
    if comment:
        for part in comment.split(" — "):
            part = part.strip()
            if CJK.search(part):
                return part.rstrip("。.")
    return fallback


def table_specs(conn: psycopg.Connection, relations: Sequence[str] | None = None) -> list[TableSpec]:
    specs = []
    for rel in relations if relations is not None else disclosure_relations(conn):
        oid = conn.execute("select %s::regclass::oid", (rel,)).fetchone()[0]
        title = conn.execute("select obj_description(%s, 'pg_class')", (oid,)).fetchone()[0]
        cols = conn.execute(
            """select attname, col_description(attrelid, attnum), format_type(atttypid, atttypmod)
               from pg_attribute where attrelid = %s and attnum > 0 and not attisdropped order by attnum""",
            (oid,),
        ).fetchall()
        table = rel.split(".", 1)[1]
        exported = [(n, c, t) for n, c, t in cols if n != AS_OF]
        partition_by = PARTITION_BY.get(table)
        if partition_by not in {n for n, _, _ in exported}:
            partition_by = None
        specs.append(TableSpec(rel, header_from_comment(title, table),
                               tuple(Column(n, header_from_comment(c, n)) for n, c, _ in exported),
                               partition_by=partition_by, as_of=len(exported) < len(cols),
                               types=tuple(t for _, _, t in exported)))
    return specs


def _relation(spec: TableSpec) -> sql.Composable:
    schema, table = spec.relation.split(".", 1)
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def _partition(spec: TableSpec) -> sql.Composable:
    if spec.partition_by is None:
        return sql.SQL("null::text")
    return sql.SQL("coalesce(to_char({}, 'YYYY-MM'), {})").format(sql.Identifier(spec.partition_by),
                                                                  sql.Literal(UNDATED))


# Marks a digest of rows taken without a sort (partition_digests); a recorded digest without
# it is the older md5 of the rows in export order (publications before this one).
DIGEST_MARK = "m2"


def partition_digests(conn: psycopg.Connection, spec: TableSpec,
                      *, ordered: bool = False) -> dict[str | None, tuple[int, str]]:
    """Partition -> (rows, digest of its rows). Equal digests mean equal rows, hence equal
    files: a file lists its rows sorted by every column, so the same rows make the same file
    whatever order the table holds them in. The digest is the row count and the sums of the
    two 64-bit halves of each row's md5 (a sum of bigint is an exact numeric, added up in
    128-bit integers: the same value as a sum of the halves cast to numeric, without a numeric
    per row), so it needs no sort: the md5 of the rows sorted in export order sorted the whole
    of tender_results every night (273k rows on the scale-16 warehouse: 6.7 s against 2.3 s,
    shared machine). `ordered`: that older digest, to compare with files recorded by a
    publication before this one. An unpartitioned table
    always has its one partition (None), empty or not; a partitioned one has a partition per
    month present."""
    cols = sql.SQL(", ").join(sql.Identifier(c.name) for c in spec.columns)
    group = sql.SQL("group by 1") if spec.partition_by else sql.SQL("")
    if ordered:
        query = sql.SQL(
            "select {part}, count(*), md5(coalesce(string_agg(row({cols})::text, E'\\n' order by {cols}), '')) "
            "from {rel} {group}"
        ).format(part=_partition(spec), cols=cols, rel=_relation(spec), group=group)
        return {part: (n, digest) for part, n, digest in conn.execute(query)}
    query = sql.SQL(
        "select {outer}, count(*), coalesce(sum(('x' || left(h, 16))::bit(64)::bigint), 0), "
        "coalesce(sum(('x' || right(h, 16))::bit(64)::bigint), 0) "
        "from (select {part} as part, md5(row({cols})::text) as h from {rel}) as r {group}"
    ).format(outer=sql.SQL("part" if spec.partition_by else "null::text"), part=_partition(spec), cols=cols,
             rel=_relation(spec), group=group)
    return {part: (n, f"{DIGEST_MARK}:{hashlib.md5(f'{n}:{hi}:{lo}'.encode()).hexdigest()}")
            for part, n, hi, lo in conn.execute(query)}


def export_query(spec: TableSpec, partitions: Sequence[str | None] | None = None) -> sql.Composed:
    """(partition, *columns) of the given partitions (None: all), ordered by partition
    then every column: the order of the rows in each file and in its digest."""
    where = sql.SQL("")
    if partitions is not None and spec.partition_by is not None:
        where = sql.SQL(" where {} = any({})").format(_partition(spec), sql.Literal(list(partitions)))
    order = sql.SQL(", ").join(sql.Literal(i + 1) for i in range(len(spec.columns) + 1))
    cols = sql.SQL(", ").join(sql.Identifier(c.name) for c in spec.columns)
    return sql.SQL("select {}, {} from {}{} order by {}").format(_partition(spec), cols, _relation(spec), where, order)


@contextlib.contextmanager
def stream(conn: psycopg.Connection, query: sql.Composable, name: str) -> Iterator[tuple[list[Any], Iterable[tuple]]]:
    """A server-side cursor over `query` (rows fetched 2,000 at a time, so an export or a
    scan holds a bounded number of rows whatever the table's size): (description, rows)."""
    with conn.transaction(), conn.cursor(name=name) as cur:
        cur.itersize = 2000
        cur.execute(query)
        yield list(cur.description or []), cur
