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
import stat
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ggzy.feeds import contract as c

if TYPE_CHECKING:
    from ggzy.feeds.files import BatchFolder

MANIFEST = "manifest.json"
ENCODINGS = {c.CSV_UTF8: "utf-8", c.CSV_GB18030: "gb18030", c.JSONL: "utf-8"}


class BatchRefused(Exception):
    """A whole batch was refused: nothing of it was loaded (raw is unchanged).

    The message always names the batch (feed/date), the file, the problem and
    what to do, so the person on duty can call the producer without reading
    code. It never quotes file content beyond the offending value, shortened.
    """

    TODO = "ask the producer to correct and re-deliver the batch"

    def __init__(self, feed: str, batch_date: date, file: str | None, problem: str, todo: str | None = None) -> None:
        self.feed = feed
        self.batch_date = batch_date
        self.file = file
        self.problem = problem
        self.todo = todo or self.TODO
        where = f"{feed}/{batch_date.isoformat()}" + (f" file {file}" if file else "")
        super().__init__(f"batch {where}: {problem} - batch refused, nothing loaded; to do: {self.todo}")


class BatchHeld(BatchRefused):
    """A batch dated after the loading horizon (tomorrow, Asia/Shanghai): not loaded
    now, recorded as held; it loads once its date has come."""


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


MAX_MANIFEST_BYTES = 1 << 20  # a manifest lists at most a dozen files: 1 MiB is generous, and bounds parsing


def read_manifest(folder: BatchFolder, feed: str, batch_date: date) -> Manifest:
    """Parse and check `manifest.json` of an open batch folder against the folder and
    the contract. Raises BatchRefused naming the file and the problem.

    Checked here (cheap, before any byte of a data file is read): the manifest is a
    regular file of at most MAX_MANIFEST_BYTES, valid JSON of the documented shape
    (nesting deeper than Python's parser allows is refused, not a crash), names
    this feed and date, lists only contract files, lists each at most once, every
    listed file exists and every data file in the folder is listed. Contract files
    that are neither listed nor present are allowed: a delta batch may have
    nothing for them (they load as 0 rows and the result says so). sha256 is
    checked when each file is opened, row counts while it streams.
    """

    def refuse(problem: str, file: str | None = MANIFEST) -> BatchRefused:
        return BatchRefused(feed, batch_date, file, problem)

    if not folder.exists(MANIFEST):
        raise refuse(f"no {MANIFEST} in the batch folder", MANIFEST)
    with folder.open_file(MANIFEST, max_bytes=MAX_MANIFEST_BYTES) as fh:
        data = fh.read(MAX_MANIFEST_BYTES + 1)
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise refuse(f"not valid UTF-8 (byte {e.start})") from e
    except json.JSONDecodeError as e:
        raise refuse(f"not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from e
    except RecursionError as e:
        raise refuse("not a manifest: JSON nested too deeply") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise refuse('not a manifest: expected an object with a "files" list')
    try:  # the ledger keeps the manifest as jsonb, which holds neither U+0000 nor a lone surrogate
        if "\\u0000" in json.dumps(doc, ensure_ascii=False).encode("utf-8").decode("utf-8"):
            raise refuse("holds a \\u0000 (NUL) escape")
    except UnicodeEncodeError as e:
        raise refuse("holds an unpaired UTF-16 surrogate escape (\\ud800-\\udfff)") from e
    if doc.get("feed") != feed:
        raise refuse(f"manifest says feed {_short(doc.get('feed'))}, the folder is feed {feed!r}")
    if str(doc.get("batch_date"))[:40] != batch_date.isoformat():
        raise refuse(f"manifest says batch_date {_short(doc.get('batch_date'))}, the folder is {batch_date.isoformat()}")
    produced_at = None
    if doc.get("produced_at") is not None:
        try:
            produced_at = datetime.fromisoformat(str(doc["produced_at"]))
        except ValueError as e:
            raise refuse(f"produced_at {_short(doc['produced_at'])} is not ISO-8601") from e
    known = {ff.name for ff in c.files_of(feed)}
    files: list[ManifestFile] = []
    for entry in doc["files"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise refuse(f"file entry {_short(entry)} has no name")
        name = entry["name"]
        if name not in known:
            raise refuse(f"lists {_short(name)}, which is not a file of the {feed} feed contract "
                         f"({', '.join(sorted(known))})")
        if any(f.name == name for f in files):
            raise refuse(f"lists {name} twice")
        rows, sha = entry.get("rows"), entry.get("sha256")
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            raise refuse(f"rows {_short(rows)} of {name} is not a non-negative integer")
        if not isinstance(sha, str) or len(sha) != 64 or any(ch not in "0123456789abcdefABCDEF" for ch in sha):
            raise refuse(f"sha256 {_short(sha)} of {name} is not 64 hex digits")
        if not folder.exists(name):
            raise refuse("listed in the manifest but absent from the batch folder", name)
        files.append(ManifestFile(name, rows, sha.lower()))
    listed = {f.name for f in files}
    for name, mode in folder.entries():
        if name == MANIFEST or name.startswith(".") or stat.S_ISDIR(mode):
            continue
        if name not in listed:
            raise refuse("present in the batch folder but not listed in the manifest", name[:80])
    return Manifest(feed, batch_date, produced_at, tuple(files), doc)


def _short(value: object, n: int = 60) -> str:
    """A value for a message: repr, shortened (messages never carry whole file content)."""
    text = repr(value)
    return text if len(text) <= n else text[: n - 3] + "..."


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
