"""A tiny generated landing zone shared by the generator tests (scale 0.01, 30 days)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from ggzy.feeds import contract as fc

START, END = dt.date(2026, 3, 2), dt.date(2026, 3, 31)
SEED = 7
BAD_RATE = 0.03


@pytest.fixture(scope="session", params=[1, 2], ids=["one-world", "two-shards"])
def shards(request) -> int:
    """The landing zone as one world, and as two shards (what scale > 1 is made of:
    generator/shards.py) whose files are assembled from both: every check holds for either."""
    return request.param


@pytest.fixture(scope="session")
def landing(shards, tmp_path_factory) -> Path:
    """Scale 0.01 per shard: 0.01 in one world, 0.02 in two shards."""
    from ggzy.generator import generate

    path = tmp_path_factory.mktemp("gen") / "landing"
    generate(path, START, END, scale=0.01 * shards, seed=SEED, bad_row_rate=BAD_RATE, shards=shards)
    return path


def read_truth(landing: Path, name: str) -> list[dict[str, str]]:
    with (landing / "_ground_truth" / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def physical_lines(path: Path, ff: fc.FeedFile) -> list[str]:
    """The file's physical lines (no terminators), decoded with the feed's encoding."""
    text = path.read_bytes().decode("gb18030" if ff.fmt == fc.CSV_GB18030 else "utf-8")
    return text.splitlines()


def records(path: Path, ff: fc.FeedFile) -> list[tuple[int, object]]:
    """(line, parsed) per data line: a list of fields (CSV), a dict (JSONL) or None (invalid JSON)."""
    out: list[tuple[int, object]] = []
    lines = physical_lines(path, ff)
    if ff.fmt == fc.JSONL:
        for i, line in enumerate(lines, start=1):
            try:
                out.append((i, json.loads(line)))
            except json.JSONDecodeError:
                out.append((i, None))
        return out
    for i, line in enumerate(lines[1:], start=2):
        out.append((i, next(csv.reader(io.StringIO(line)))))
    return out


def as_text_row(ff: fc.FeedFile, parsed: object) -> dict[str, str | None]:
    """A record as the loader sees it: text per column, None for null/missing."""
    if isinstance(parsed, dict):
        return {c: (None if parsed.get(c) is None else str(parsed[c])) for c in ff.column_names}
    assert isinstance(parsed, list)
    return {c: (v or None) for c, v in zip(ff.column_names, parsed, strict=False)}


def batch_files(landing: Path):
    """(feed file, batch date, path) for every delivered file."""
    for ff in fc.FILES:
        for folder in sorted((landing / ff.feed).iterdir()):
            yield ff, folder.name, folder / ff.name
