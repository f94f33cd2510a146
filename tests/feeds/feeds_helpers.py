"""Hand-built batches for the loader tests: files written with csv/json, manifests computed."""

from __future__ import annotations

import csv
import json
import random
from datetime import date
from pathlib import Path

from ggzy.feeds import contract as c
from ggzy.feeds.manifest import write_manifest
from ggzy.feeds.synth import _Values, make_id_no, make_uscc

RNG = random.Random(7)
USCC = make_uscc(RNG)
USCC2 = make_uscc(RNG)
ID_NO = make_id_no(RNG)


def valid_row(ff: c.FeedFile, i: int, day: date = date(2024, 3, 1)) -> dict[str, str]:
    v = _Values(random.Random(i), day)
    return {col.name: v.value(col, i) for col in ff.columns}


def write_csv(folder: Path, ff: c.FeedFile, rows: list[dict | list], header: list[str] | None = None,
              encoding: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    header = header or list(ff.column_names)
    enc = encoding or ("gb18030" if ff.fmt == c.CSV_GB18030 else "utf-8")
    p = folder / ff.name
    with open(p, "w", encoding=enc, newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for row in rows:
            w.writerow([row.get(h, "") for h in header] if isinstance(row, dict) else row)
    return p


def write_jsonl(folder: Path, ff: c.FeedFile, lines: list[dict | str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / ff.name
    with open(p, "w", encoding="utf-8", newline="\n") as fh:
        for obj in lines:
            fh.write((obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)) + "\n")
    return p


def finish(folder: Path, feed: str, day: date) -> dict:
    return write_manifest(folder, feed, day)
