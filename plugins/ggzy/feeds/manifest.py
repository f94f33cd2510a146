"""The batch manifest (`manifest.json`): reading it, checking a batch folder
against it, and writing one (for tests, the synthesiser and the generator).

The manifest is the producer's statement of what a batch holds. The loader refuses
a batch that does not match it rather than loading part of a day: a half-loaded
day would silently skew every downstream count (bids per tender, awards per
entity) and nobody would notice until an audit.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ggzy.feeds import contract as c

MANIFEST = "manifest.json"
ENCODINGS = {c.CSV_UTF8: "utf-8", c.CSV_GB18030: "gb18030", c.JSONL: "utf-8"}


class BatchRefused(Exception):
    """A whole batch was refused: nothing of it was loaded (raw is unchanged).

    The message always names the batch (feed/date), the file and the problem, so
    the person on duty can call the producer without reading code.
    """

    def __init__(self, feed: str, batch_date: date, file: str | None, problem: str) -> None:
        self.feed = feed
        self.batch_date = batch_date
        self.file = file
        self.problem = problem
        where = f"{feed}/{batch_date.isoformat()}" + (f" file {file}" if file else "")
        super().__init__(f"batch {where}: {problem} - batch refused, nothing loaded")


@dataclass(frozen=True)
class ManifestFile:
    name: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    feed: str
    batch_date: date
    produced_at: datetime | None
    files: tuple[ManifestFile, ...]
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    def file(self, name: str) -> ManifestFile | None:
        for f in self.files:
            if f.name == name:
                return f
        return None


def batch_dir(landing: Path, feed: str, batch_date: date) -> Path:
    return Path(landing) / feed / batch_date.isoformat()


def read_manifest(folder: Path, feed: str, batch_date: date) -> Manifest:
    """Parse and check `manifest.json` of a batch folder against the folder and the
    contract. Raises BatchRefused naming the file and the problem.

    Checked here (cheap, before any byte is loaded): the manifest exists and is
    valid JSON of the documented shape, names this feed and date, lists only
    contract files, lists each at most once, and every listed file exists and
    every data file in the folder is listed. Contract files that are neither
    listed nor present are allowed: a delta batch may have nothing for them
    (they load as 0 rows and the result says so). sha256 and row counts are
    checked by the loader while it streams the files (one read per file).
    """

    def refuse(problem: str, file: str | None = MANIFEST) -> BatchRefused:
        return BatchRefused(feed, batch_date, file, problem)

    path = Path(folder) / MANIFEST
    if not Path(folder).is_dir():
        raise refuse(f"batch folder {folder} does not exist", None)
    if not path.is_file():
        raise refuse(f"no {MANIFEST} in {folder}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise refuse(f"not valid JSON ({e})") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise refuse('not a manifest: expected an object with a "files" list')
    if doc.get("feed") != feed:
        raise refuse(f"manifest says feed {doc.get('feed')!r}, the folder is feed {feed!r}")
    if str(doc.get("batch_date")) != batch_date.isoformat():
        raise refuse(f"manifest says batch_date {doc.get('batch_date')!r}, the folder is {batch_date.isoformat()}")
    produced_at = None
    if doc.get("produced_at") is not None:
        try:
            produced_at = datetime.fromisoformat(str(doc["produced_at"]))
        except ValueError as e:
            raise refuse(f"produced_at {doc['produced_at']!r} is not ISO-8601") from e
    known = {ff.name for ff in c.files_of(feed)}
    files: list[ManifestFile] = []
    for entry in doc["files"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise refuse(f"file entry {entry!r} has no name")
        name = entry["name"]
        if name not in known:
            raise refuse(f"lists {name}, which is not a file of the {feed} feed contract ({', '.join(sorted(known))})")
        if any(f.name == name for f in files):
            raise refuse(f"lists {name} twice")
        rows, sha = entry.get("rows"), entry.get("sha256")
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            raise refuse(f"rows {rows!r} of {name} is not a non-negative integer")
        if not isinstance(sha, str) or len(sha) != 64 or any(ch not in "0123456789abcdefABCDEF" for ch in sha):
            raise refuse(f"sha256 {sha!r} of {name} is not 64 hex digits")
        if not (Path(folder) / name).is_file():
            raise refuse("listed in the manifest but absent from the batch folder", name)
        files.append(ManifestFile(name, rows, sha.lower()))
    listed = {f.name for f in files}
    for p in sorted(Path(folder).iterdir()):
        if p.name == MANIFEST or p.name.startswith(".") or p.is_dir():
            continue
        if p.name not in listed:
            raise refuse("present in the batch folder but not listed in the manifest", p.name)
    return Manifest(feed, batch_date, produced_at, tuple(files), doc)


def count_rows(path: Path, fmt: str) -> int:
    """Data rows as the loader counts them: CSV records after the header (a quoted
    field may span lines), non-blank JSONL lines."""
    if fmt == c.JSONL:
        with open(path, "rb") as fh:
            return sum(1 for line in fh if line.strip())
    with open(path, encoding=ENCODINGS[fmt], newline="") as fh:
        return max(sum(1 for rec in csv.reader(fh) if rec) - 1, 0)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(folder: Path, feed: str, batch_date: date, produced_at: str | None = None) -> dict[str, Any]:
    """Write `manifest.json` for the contract files present in `folder`."""
    folder = Path(folder)
    entries = []
    for ff in c.files_of(feed):
        p = folder / ff.name
        if p.is_file():
            entries.append({"name": ff.name, "rows": count_rows(p, ff.fmt), "sha256": sha256_of(p)})
    doc = {
        "feed": feed,
        "batch_date": batch_date.isoformat(),
        "produced_at": produced_at or f"{batch_date.isoformat()}T23:30:00+08:00",
        "files": entries,
    }
    buf = io.StringIO()
    json.dump(doc, buf, ensure_ascii=False, indent=2)
    (folder / MANIFEST).write_text(buf.getvalue() + "\n", encoding="utf-8")
    return doc
