"""What a publication writes and what it keeps.

Each file of a publication holds one partition of one table (tables.py). Its digest is
a digest of the partition's rows computed in SQL (tables.partition_digests), prefixed with a digest
of the table's layout (title, headers, types, partition column) and the writer's
FORMAT_VERSION: equal digests mean an equal file. A partition whose digest equals the
one recorded for the same file in the base publication (the newest earlier publication
under the same export root, or the date's own when it is published again) is kept: the
new folder gets a hard link to the base's file, so its bytes, sha256 and mtime stay. The
others are written, and only they go through the PII scan (all of them with --force).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from ggzy.disclosure.tables import DIGEST_MARK, TableSpec, partition_digests
from ggzy.disclosure.writer import FORMAT_VERSION

SUFFIXES = (".csv", ".xlsx")


@dataclass(frozen=True)
class Part:
    """One partition of one table as it is now: the two files it becomes."""

    spec: TableSpec
    partition: str | None  # YYYY-MM, "undated", or None for an unpartitioned table
    rows: int
    digest: str
    # the digest as publications before tables.DIGEST_MARK recorded it, when the base holds such
    # records of the table: the first night after the change keeps its files all the same
    ordered_digest: str | None = None

    @property
    def names(self) -> list[str]:
        stem = self.spec.file_stem(self.partition)
        return [f"{stem}{s}" for s in SUFFIXES]


@dataclass
class Base:
    """The publication whose files a new one may keep: its folder and its file records by name."""

    batch_date: dt.date
    folder: Path
    published_at: dt.datetime
    files: dict[str, dict] = field(default_factory=dict)


def layout_digest(spec: TableSpec) -> str:
    layout = [FORMAT_VERSION, spec.title, [[c.name, c.header] for c in spec.columns], list(spec.types),
              spec.partition_by]
    return hashlib.sha256(json.dumps(layout, ensure_ascii=False).encode()).hexdigest()[:16]


def current_parts(conn: psycopg.Connection, specs: Sequence[TableSpec], base: Base | None = None) -> list[Part]:
    parts = []
    for spec in specs:
        layout = layout_digest(spec)
        digests = partition_digests(conn, spec)
        ordered = partition_digests(conn, spec, ordered=True) if _recorded_ordered(base, spec) else {}
        for partition in sorted(digests, key=lambda p: (p is not None, p or "")):
            rows, digest = digests[partition]
            older = ordered.get(partition)
            parts.append(Part(spec, partition, rows, f"{layout}:{digest}",
                              f"{layout}:{older[1]}" if older else None))
    return parts


def _recorded_ordered(base: Base | None, spec: TableSpec) -> bool:
    """Does the base record a file of the table with a digest of the older, ordered kind?"""
    mark = f":{DIGEST_MARK}:"
    return base is not None and any(
        f.get("table") == spec.relation and f.get("digest") and mark not in f["digest"] for f in base.files.values())


def base_publication(conn: psycopg.Connection, root: Path, own: Path | None = None) -> Base | None:
    """The publication in force in folder `own` when given (a date published again), else the
    newest publication under `root` whose folder is still there. Publications recorded
    before digests were (no "digest" in their files) give nothing to keep: all is written."""
    rows = conn.execute(
        """select batch_date, export_dir, files, published_at from ops.publications
           where published and export_dir is not null and (%s::text is null or export_dir = %s::text)
           order by published_at desc, publication_id desc limit 20""",
        (str(own) if own else None, str(own) if own else None),
    ).fetchall()
    for batch_date, export_dir, files, published_at in rows:
        folder = Path(export_dir)
        if folder.parent.resolve() == root.resolve() and (folder / "manifest.json").is_file():
            return Base(batch_date, folder, published_at, {f["name"]: f for f in files or []})
    return None


def _kept(base: Base | None, part: Part) -> list[dict] | None:
    """The base's records of the part's files when both hold the same content and are
    still on disk with their recorded size; None when the part must be written."""
    if base is None:
        return None
    found = []
    for name in part.names:
        entry = base.files.get(name)
        if entry is None or entry.get("digest") not in {part.digest, part.ordered_digest} - {None}:
            return None
        try:
            if (base.folder / name).stat().st_size != entry["bytes"]:
                return None
        except OSError:
            return None
        found.append(entry)
    return found


def plan(parts: Sequence[Part], base: Base | None, force: bool) -> tuple[list[tuple[Part, list[dict]]], list[Part]]:
    """(parts kept with the base's records of their files, parts to write)."""
    keep, write = [], []
    for part in parts:
        entries = None if force else _kept(base, part)
        if entries is None:
            write.append(part)
        else:
            keep.append((part, entries))
    return keep, write


def link(src: Path, dst: Path) -> None:
    """dst becomes the same file as src (a hard link: no bytes written, mtime kept); a copy
    with its mtime where the file system refuses links."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
