"""The landing zone as the loader touches it: folders, files, their checksums.

Rules (issue 16), each checked before a byte of content is read:
- Below the landing root, the feed folder, the batch folder and every file are
  opened relative to their parent's descriptor with O_NOFOLLOW: a symbolic link
  anywhere below the root is refused, never followed (the root itself may be a
  link: it is the operator's setting, not the producer's delivery).
- A file must be a regular file (a FIFO would block the loader, a device could
  be anything) with one hard link: the loader cannot tell where a file's other
  names are, so a second name may be a file outside the landing zone.
- A file's sha256 is computed and compared with the manifest before it is
  parsed: a tampered file is reported as a checksum mismatch, not as whatever
  its damaged content would look like. The open descriptor is then rewound and
  streamed, so the bytes hashed are the bytes loaded (a file that changes size
  in between is refused).
- Folders below a feed that are not a valid YYYY-MM-DD date are reported
  (`landing_problems`), never skipped silently.
Messages name the path inside the landing zone, never file content.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ggzy.feeds.manifest import BatchRefused

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: opening a FIFO must not hang
HASH_BLOCK = 1 << 20


@dataclass(frozen=True)
class LandingProblem:
    """Something in the landing zone that is not a batch the loader can consider."""

    feed: str
    folder: str  # the name below <landing>/<feed>/
    problem: str


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISREG(mode):
        return "a file"
    return "not a regular file"


class BatchFolder:
    """An open batch folder `<landing>/<feed>/<YYYY-MM-DD>/` (a directory descriptor).

    Use as a context manager; `open_file` hands out verified file objects."""

    def __init__(self, landing: Path | str, feed: str, batch_date: date) -> None:
        self.feed, self.batch_date = feed, batch_date
        self.rel = f"{feed}/{batch_date.isoformat()}"
        self.fd: int | None = None
        self._open(Path(landing))

    def refuse(self, problem: str, file: str | None = None, todo: str | None = None) -> BatchRefused:
        return BatchRefused(self.feed, self.batch_date, file, problem, todo)

    def _open(self, landing: Path) -> None:
        try:
            root = os.open(landing, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            raise self.refuse(f"landing folder {landing} cannot be opened ({e.strerror})", None,
                              "check GGZY_LANDING / --landing") from e
        fd = root
        try:
            for i, name in enumerate((self.feed, self.batch_date.isoformat())):
                where = "/".join((self.feed, self.batch_date.isoformat())[: i + 1])
                try:
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError as e:
                    raise self.refuse(f"batch folder {where} does not exist", None,
                                      "check the date, or ask the producer whether the batch was sent") from e
                if not stat.S_ISDIR(st.st_mode):
                    raise self.refuse(f"{where} is {_kind(st.st_mode)}, not a folder; it was not followed", None,
                                      "deliver the batch as a real folder inside the landing zone")
                try:
                    nxt = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except OSError as e:  # unreadable, or swapped for a link since the stat
                    raise self.refuse(f"batch folder {where} cannot be opened ({e.strerror})", None,
                                      "check the folder's permissions") from e
                os.close(fd)
                fd = nxt
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> BatchFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def entries(self) -> list[tuple[str, int]]:
        """(name, st_mode) of each entry, links not followed."""
        assert self.fd is not None
        return sorted((e.name, e.stat(follow_symlinks=False).st_mode) for e in os.scandir(self.fd))

    def exists(self, name: str) -> bool:
        try:
            os.stat(name, dir_fd=self.fd, follow_symlinks=False)
            return True
        except FileNotFoundError:
            return False

    def open_file(self, name: str, sha256: str | None = None, max_bytes: int | None = None):
        """A regular file of the folder, opened without following links, as a binary
        file object positioned at 0. With `sha256`: hashed first and refused on a
        mismatch. With `max_bytes`: refused if larger (before reading)."""
        try:
            st = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError as e:
            raise self.refuse("listed in the manifest but absent from the batch folder", name,
                              "ask the producer to re-deliver the batch with every listed file") from e
        if not stat.S_ISREG(st.st_mode):
            raise self.refuse(f"is {_kind(st.st_mode)}, not a regular file; it was not read", name,
                              "deliver the file itself inside the batch folder")
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=self.fd)
        except OSError as e:
            raise self.refuse(f"cannot be opened ({e.strerror})", name, "check the file's permissions") from e
        fh = os.fdopen(fd, "rb", buffering=0)
        try:
            st = os.fstat(fd)  # the object opened, not the name looked at (a swap in between)
            if not stat.S_ISREG(st.st_mode):
                raise self.refuse(f"is {_kind(st.st_mode)}, not a regular file; it was not read", name,
                                  "deliver the file itself inside the batch folder")
            if st.st_nlink > 1:
                raise self.refuse(f"has {st.st_nlink} hard links; another name of it may lie outside the "
                                  "landing zone, so it was not read", name, "deliver a copy, not a hard link")
            if max_bytes is not None and st.st_size > max_bytes:
                raise self.refuse(f"is {st.st_size:,} bytes, more than the {max_bytes:,} allowed", name)
            if sha256 is not None:
                h = hashlib.sha256()
                size = 0
                while block := fh.read(HASH_BLOCK):
                    h.update(block)
                    size += len(block)
                if h.hexdigest() != sha256:
                    raise self.refuse(f"sha256 mismatch: manifest {sha256}, file {h.hexdigest()}", name,
                                      "the file was changed or damaged after the manifest was written; "
                                      "ask the producer to re-deliver the batch")
                fh.seek(0)
                fh.hashed_size = size  # type: ignore[attr-defined]  # the streamer checks it read as much
        except BaseException:
            fh.close()
            raise
        return fh


def sha256_matches(folder: BatchFolder, name: str, sha256: str) -> bool:
    """True when the file exists as a regular file with this sha256 (skip-unchanged)."""
    try:
        folder.open_file(name, sha256).close()
        return True
    except BatchRefused:
        return False


def landing_problems(landing: Path | str, feeds: tuple[str, ...] | list[str]) -> tuple[dict[str, list[date]],
                                                                                     list[LandingProblem]]:
    """Batch dates per feed (real folders named YYYY-MM-DD) and every other entry
    below a feed folder (not a date, a date that does not exist, a file, a link)."""
    root = Path(landing)
    dates: dict[str, list[date]] = {}
    problems: list[LandingProblem] = []
    for feed in feeds:
        out: list[date] = []
        base = root / feed
        try:
            st = os.lstat(base)
        except FileNotFoundError:
            dates[feed] = out
            continue
        except OSError as e:
            problems.append(LandingProblem(feed, "", f"{feed} cannot be read ({e.strerror})"))
            dates[feed] = out
            continue
        if not stat.S_ISDIR(st.st_mode):
            problems.append(LandingProblem(feed, "", f"{feed} is {_kind(st.st_mode)}, not a folder; not followed"))
            dates[feed] = out
            continue
        try:
            entries = sorted(os.scandir(base), key=lambda e: e.name)
        except OSError as e:
            problems.append(LandingProblem(feed, "", f"{feed} cannot be listed ({e.strerror})"))
            entries = []
        for e in entries:
            if e.name.startswith("."):
                continue  # hidden: editors' and rsync's temporary names
            try:
                mode = e.stat(follow_symlinks=False).st_mode
            except OSError:  # removed while listed
                continue
            try:  # exactly YYYY-MM-DD: fromisoformat also reads 20260105 and 2026-W01-1
                day = date.fromisoformat(e.name)
            except ValueError:
                day = None
            if day is not None and day.isoformat() != e.name:
                day = None
            if day is None:
                what = "a folder" if stat.S_ISDIR(mode) else _kind(mode)
                problems.append(LandingProblem(feed, e.name, f"{feed}/{e.name[:80]!r} ({what}) is not a batch: "
                                                             "batch folders are named YYYY-MM-DD, a real calendar day"))
            else:  # a dated link or file is tried too: its load is refused and recorded in the ledger
                out.append(day)
        dates[feed] = sorted(out)
    return dates, problems
