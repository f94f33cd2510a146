"""A publication: the gate and as-of checks, the files of what changed, the PII scan,
the swap into place, the `latest` pointer and the record in ops.publications.

- Only a day whose quality gate passed (ops.quality_gate, newest check of the date) is
  published. A refused attempt is recorded with its reason and never touches files
  already published: the previous publication stays what the website serves.
- Every publication is one complete folder $GGZY_EXPORT_DIR/<date>/ (every file of every
  table, and manifest.json), built aside and renamed into place, so a reader sees the old
  set or the new one, never a mix. Files are never rewritten in place: a kept file is a
  hard link to the same file of the base publication (changes.py).
- Publishing a date again without --force writes what changed since its own publication,
  and nothing at all when nothing did (an idempotent rerun); --force writes and scans all.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from ggzy import config, db
from ggzy.disclosure import changes
from ggzy.disclosure.pii import CellScanner, Finding, load_person_names, scan_file, scan_rows_passing
from ggzy.disclosure.tables import AS_OF, SCHEMA, TableSpec, export_query, stream, table_specs
from ggzy.disclosure.writer import DATE_FORMATS, TZ, sha256, write_table


@dataclass
class Publication:
    batch_date: dt.date
    published: bool
    reason: str
    export_dir: str | None = None
    files: list[dict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    recorded: bool = True  # False: nothing was attempted (already published, nothing changed)


def _ops_ddl(conn: psycopg.Connection) -> None:
    from importlib import resources

    conn.execute("create schema if not exists ops")
    conn.execute((resources.files("ggzy") / "sql" / "020_ops.sql").read_text(encoding="utf-8"))


def _record(conn: psycopg.Connection, pub: Publication) -> Publication:
    conn.execute(
        """insert into ops.publications (batch_date, published, reason, files, export_dir, published_at)
           values (%s, %s, %s, %s::jsonb, %s, case when %s then now() end)""",
        (pub.batch_date, pub.published, pub.reason, json.dumps(pub.files, ensure_ascii=False),
         pub.export_dir, pub.published),
    )
    return pub


def gate_result(conn: psycopg.Connection, batch_date: dt.date) -> tuple[bool, dt.datetime, object, str] | None:
    """(passed, checked_at, details, run_id) of the newest gate check of the date."""
    return conn.execute(
        """select passed, checked_at, details, run_id from ops.quality_gate
           where batch_date = %s order by checked_at desc limit 1""",
        (batch_date,),
    ).fetchone()


def _as_of_mismatch(conn: psycopg.Connection, specs: Sequence[TableSpec], batch_date: dt.date) -> str | None:
    for spec in specs:
        if spec.as_of:
            schema, table = spec.relation.split(".", 1)
            dates = [r[0] for r in conn.execute(sql.SQL("select distinct {} from {}.{}").format(
                sql.Identifier(AS_OF), sql.Identifier(schema), sql.Identifier(table)))]
            wrong = [d for d in dates if d != batch_date]
            if wrong:
                return (f"{spec.relation} is built as of {', '.join(map(str, wrong))}, not {batch_date}: "
                        f"rebuild with `ggzy dbt build --vars '{{as_of_date: {batch_date}}}'` first")
    return None


def _summarise(findings: Sequence[Finding], limit: int = 10) -> str:
    lines = [str(f) for f in findings[:limit]]
    more = len(findings) - limit
    return "; ".join(lines) + (f"; ... and {more} more" if more > 0 else "")


def _by_table(parts: Sequence[changes.Part]) -> list[tuple[TableSpec, list[changes.Part]]]:
    return [(spec, list(group)) for spec, group in itertools.groupby(parts, key=lambda p: p.spec)]


def _write(conn: psycopg.Connection, parts: Sequence[changes.Part], out: Path,
           scanner: CellScanner) -> tuple[dict[str, Path], list[Finding]]:
    """The files of the given partitions under `out`, one streamed query per table, and the
    PII scan of their rows as the database holds them, taken as they pass to the writer:
    (name -> path, findings)."""
    written: dict[str, Path] = {}
    found: list[Finding] = []
    for spec, group in _by_table(parts):
        with stream(conn, export_query(spec, [p.partition for p in group]), "ggzy_export") as (desc, rows):
            columns = [d.name for d in desc[1:]]
            formats = {i: DATE_FORMATS[d.type_code] for i, d in enumerate(desc[1:]) if d.type_code in DATE_FORMATS}
            for partition, prows in itertools.groupby(rows, key=lambda r: r[0]):
                where = spec.relation if partition is None else f"{spec.relation} {partition}"
                scanned = scan_rows_passing(where, columns, (r[1:] for r in prows), scanner, found)
                paths, _ = write_table(spec, scanned, out, formats, stem=spec.file_stem(partition))
                written.update((str(p.relative_to(out)), p) for p in paths)
        for part in group:  # an empty unpartitioned table: its header only, as before
            if part.names[0] not in written:
                paths, _ = write_table(spec, [], out, formats, stem=spec.file_stem(part.partition))
                written.update((str(p.relative_to(out)), p) for p in paths)
    return written, found


def publish(batch_date: dt.date, *, force: bool = False, url: str | None = None,
            export_root: Path | None = None) -> Publication:
    """Publish the disclosure tables of a batch date, or record why not.

    Refused (and recorded) when: no gate result or the gate failed; the tables are built
    for another date; the PII scan finds anything in a written partition or file. Writes
    only the partitions that changed since the base publication; a date already published
    with nothing changed is left alone (nothing recorded). `force` writes and scans every
    file again; either way the folder is replaced atomically.
    """
    root = Path(export_root or config.export_dir())
    with db.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("set timezone = {}").format(sql.Literal(config.TIMEZONE)))
        _ops_ddl(conn)

        def refuse(reason: str, findings: Sequence[Finding] = ()) -> Publication:
            return _record(conn, Publication(batch_date, False, reason, findings=list(findings)))

        gate = gate_result(conn, batch_date)
        if gate is None:
            return refuse(f"no quality gate result for {batch_date} in ops.quality_gate")
        passed, checked_at, details, run_id = gate
        if not passed:
            summary = json.dumps(details, ensure_ascii=False)[:500] if details is not None else "no details"
            return refuse(f"quality gate failed for {batch_date} (checked {checked_at:%Y-%m-%d %H:%M:%S%z}, "
                          f"run {run_id or '-'}): {summary}; the previous publication stays in force")

        target = root / batch_date.isoformat()
        own = changes.base_publication(conn, root, own=target) if target.exists() else None
        already = own is not None

        def unchanged(why: str) -> Publication:
            return Publication(batch_date, True, f"already published at {own.published_at:%Y-%m-%d %H:%M:%S%z} "
                               f"in {target}, {why} (use --force to publish again)", export_dir=str(target),
                               recorded=False)

        specs = table_specs(conn)
        if not specs:
            return refuse(f"schema {SCHEMA} has no tables: run dbt build first")
        mismatch = _as_of_mismatch(conn, specs, batch_date)
        if mismatch:
            return unchanged("and the tables now describe another date") if already and not force else refuse(mismatch)

        base = own or changes.base_publication(conn, root)
        parts = changes.current_parts(conn, specs, base)
        keep, write = changes.plan(parts, base, force)
        names = {n for part in parts for n in part.names}
        removed = sorted(set(base.files) - names) if base else []
        if already and not force and not write and not removed:
            return unchanged("nothing changed since")

        scanner = CellScanner(load_person_names(conn)) if write else None
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f".{batch_date.isoformat()}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            files: dict[str, dict] = {}
            for part, entries in keep:
                for entry in entries:
                    changes.link(base.folder / entry["name"], tmp / entry["name"])
                    # the digest of tonight's kind, for the next night to compare with
                    files[entry["name"]] = {**entry, "digest": part.digest, "unchanged": True,
                                            "changed_on": entry.get("changed_on", base.batch_date.isoformat())}
            written, findings = _write(conn, write, tmp, scanner) if write else ({}, [])
            if findings:
                shutil.rmtree(tmp, ignore_errors=True)
                return refuse(f"personal data found in {len(findings)} cells, nothing published: "
                              f"{_summarise(findings)}", findings)
            findings = [f for p in written.values() for f in scan_file(p, scanner)]
            if findings:
                shutil.rmtree(tmp, ignore_errors=True)
                return refuse(f"personal data found in the exported files, nothing published: {_summarise(findings)}",
                              findings)
            for part in write:
                for name in part.names:
                    p = written[name]
                    files[name] = {"name": name, "table": part.spec.relation, "title": part.spec.title,
                                   "partition": part.partition, "rows": part.rows, "bytes": p.stat().st_size,
                                   "sha256": sha256(p), "digest": part.digest,
                                   "changed_on": batch_date.isoformat(), "unchanged": False}
            listed = [files[n] for part in parts for n in part.names]
            manifest = {"batch_date": batch_date.isoformat(),
                        "as_of_date": batch_date.isoformat() if any(s.as_of for s in specs) else None,
                        "generated_at": dt.datetime.now(TZ).isoformat(), "gate_checked_at": checked_at.isoformat(),
                        "gate_run_id": run_id, "based_on": base.folder.name if base else None, "forced": force,
                        "written": sum(not f["unchanged"] for f in listed),
                        "unchanged": sum(f["unchanged"] for f in listed),
                        "tables": [{"table": s.relation, "title": s.title, "partition_by": s.partition_by,
                                    "columns": [c.header for c in s.columns]} for s in specs],
                        "files": listed, "removed": removed}
            (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
            _swap_into_place(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _point_latest(root, batch_date)
        pub = Publication(batch_date, True,
                          f"published {len(listed)} files of {len(specs)} tables: {manifest['written']} written, "
                          f"{manifest['unchanged']} unchanged" + (f", {len(removed)} removed" if removed else "")
                          + (" (forced republication)" if force and already else ""),
                          export_dir=str(target), files=listed)
        return _record(conn, pub)


def _swap_into_place(tmp: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _point_latest(root: Path, batch_date: dt.date) -> None:
    """`latest` -> the newest published date (a republished older date does not move it back)."""
    latest = root / "latest"
    current = latest.resolve().name if latest.is_symlink() else None
    if current and current > batch_date.isoformat() and (root / current).exists():
        return
    tmp = root / f".latest.tmp-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(batch_date.isoformat())
    os.replace(tmp, latest)


def as_dict(pub: Publication) -> dict:
    d = asdict(pub)
    d["batch_date"] = pub.batch_date.isoformat()
    d["findings"] = [str(f) for f in pub.findings]
    return d
