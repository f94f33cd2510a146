"""Cut the simulated world into daily delta batches, exactly in the contract's formats.

Why extra rows for bad data: a bad row is injected as an *additional* corrupted copy of
a real row (right after it), never by corrupting the only version of a record. The clean
world therefore stays complete and coherent, so the anomaly ground truth holds whatever
the loader quarantines, and the loader's balance (delivered = loaded + quarantined) can
be checked against `_ground_truth/bad_rows.csv`. Each bad row breaks exactly one rule.

Output is byte-deterministic: rows are ordered by (batch day, version time, creation
order), JSON keys follow the contract, and `produced_at` is the batch date + 1 day 01:30.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from ggzy.feeds import contract as fc
from ggzy.generator.calendar import to_date
from ggzy.generator.identity import USCC_ALPHABET
from ggzy.generator.model import NA
from ggzy.generator.tables import Batch

GROUND_TRUTH = "_ground_truth"
CHUNK_ROWS = 2_000  # rows formatted at a time: the first day holds every company's and project's history
ENUM_JUNK = ("待定", "其他类型", "公开招标", "已完成", "施工")
PROJECT_CODE_JUNK = ("{y}-530102-48-000123", "XM{y}0531020001", "{y}-5301-48-01-000123", "{y}/530102/48/01/000123")


def normalise_project_code(value: str) -> str:
    """What the warehouse's normalize_project_code does: NFKC (full-width → ASCII), no spaces, upper."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def format_column(kind: str, arr: np.ndarray) -> list[str]:
    """Typed column → delivered text ('' = null)."""
    if kind == fc.TIMESTAMP:
        ok = arr != NA
        txt = np.datetime_as_string(np.where(ok, arr, 0).astype("datetime64[s]"), unit="s")
        return [t + "+08:00" if o else "" for t, o in zip(txt.tolist(), ok.tolist(), strict=True)]
    if kind == fc.DATE:
        ok = arr != NA
        txt = np.datetime_as_string(np.where(ok, arr, 0).astype("datetime64[D]"), unit="D")
        return [t if o else "" for t, o in zip(txt.tolist(), ok.tolist(), strict=True)]
    if kind == fc.MONEY:
        return ["" if v == NA else f"{v // 100}.{v % 100:02d}" for v in arr.tolist()]
    if kind == fc.INTEGER:
        return ["" if v == NA else str(v) for v in arr.tolist()]
    if kind == fc.NUMBER:
        return ["" if v != v else (f"{v:.2f}".rstrip("0").rstrip(".")) for v in arr.tolist()]
    if kind == fc.BOOL:
        return [("", "false", "true")[v + 1] for v in arr.tolist()]
    return ["" if v is None else str(v) for v in arr.tolist()]


def json_value(kind: str, text: str) -> object:
    """Delivered text → JSON value: numbers for amounts and counts, strings otherwise, null for empty."""
    if text == "":
        return None
    if kind in (fc.MONEY, fc.NUMBER):
        try:
            return float(text) if "." in text or "e" in text else int(text)
        except ValueError:
            return text
    if kind == fc.INTEGER:
        return int(text) if text.lstrip("-").isdigit() else text
    return text


@dataclass
class Stats:
    rows: Counter = field(default_factory=Counter)  # data rows per table, bad rows included
    bad: list[tuple[str, str, str, int, str]] = field(default_factory=list)
    messy: list[tuple[str, str, str, int, str, str, str, str]] = field(default_factory=list)
    batches: int = 0


class BadRows:
    """Makes a corrupted copy of a row that breaks exactly one named rule."""

    def __init__(self, file: fc.FeedFile, batch_date: str) -> None:
        self.f = file
        self.year = batch_date[:4]
        self.batch_date = batch_date
        self.csv = file.fmt != fc.JSONL
        self.idx = {c.name: i for i, c in enumerate(file.columns)}

    def rules(self, vals: list[str]) -> list[str]:
        cols = self.f.columns
        out = ["required", "duplicate_row", "column_count" if self.csv else "json_syntax"]
        if any(c.kind == fc.USCC and vals[i] for i, c in enumerate(cols)):
            out.append("uscc_check_digit")
        if any(c.kind == fc.ID_NO and vals[i] for i, c in enumerate(cols)):
            out.append("id_check_digit")
        if any(c.kind == fc.REGION and vals[i] for i, c in enumerate(cols)):
            out.append("region_code")
        for kind, rule in ((fc.ENUM, "enum"), (fc.DATE, "date"), (fc.TIMESTAMP, "timestamp"), (fc.MONEY, "money")):
            if any(c.kind == kind for c in cols):
                out.append(rule)
        if self.f.feed == "approval" and any(c.kind == fc.PROJECT_CODE and vals[i] for i, c in enumerate(cols)):
            out.append("project_code_format")
        return sorted(out)

    def make(self, vals: list[str], rule: str, rng: np.random.Generator) -> tuple[list[str | None], str]:
        """Returns (values with None = key missing, how to serialise: 'row' | 'extra' | 'short' | 'truncate')."""
        v: list[str | None] = list(vals)
        cols = self.f.columns

        def pick(pred: Callable[[fc.Column, str], bool]) -> int:
            cand = [i for i, c in enumerate(cols) if pred(c, vals[i])]
            return cand[int(rng.integers(0, len(cand)))]

        if rule == "duplicate_row":
            return v, "row"
        if rule == "column_count":
            return v, "extra" if rng.random() < 0.5 else "short"
        if rule == "json_syntax":
            return v, "truncate"
        if rule == "required":
            i = pick(lambda c, x: c.required and bool(x))
            v[i] = "" if self.csv else None
        elif rule == "uscc_check_digit":
            i = pick(lambda c, x: c.kind == fc.USCC and bool(x))
            good = vals[i][-1]
            v[i] = vals[i][:-1] + USCC_ALPHABET[(USCC_ALPHABET.index(good) + 1 + int(rng.integers(0, 29))) % 31]
        elif rule == "id_check_digit":
            i = pick(lambda c, x: c.kind == fc.ID_NO and bool(x))
            digits = "0123456789X"
            v[i] = vals[i][:-1] + digits[(digits.index(vals[i][-1]) + 1 + int(rng.integers(0, 9))) % 11]
        elif rule == "region_code":
            i = pick(lambda c, x: c.kind == fc.REGION and bool(x))
            v[i] = vals[i][:5]
        elif rule == "enum":
            i = pick(lambda c, x: c.kind == fc.ENUM)
            v[i] = ENUM_JUNK[int(rng.integers(0, len(ENUM_JUNK)))]
        elif rule == "date":
            i = pick(lambda c, x: c.kind == fc.DATE)
            d = vals[i] or self.batch_date
            v[i] = f"{d[:4]}-02-30" if rng.random() < 0.5 else d.replace("-", "/")
        elif rule == "timestamp":
            i = pick(lambda c, x: c.kind == fc.TIMESTAMP)
            t = vals[i] or f"{self.batch_date}T10:00:00+08:00"
            v[i] = f"{t[:4]}-02-30{t[10:]}" if rng.random() < 0.5 else f"{t[:10].replace('-', '/')} {t[11:16]}"
        elif rule == "money":
            i = pick(lambda c, x: c.kind == fc.MONEY)
            if rng.random() < 0.5 and vals[i] and float(vals[i]) > 0:
                v[i] = "-" + vals[i]
            else:
                v[i] = f"{int(rng.integers(2, 90))}000000000000.00"  # > 1e12 yuan (absurd)
        elif rule == "project_code_format":
            i = pick(lambda c, x: c.kind == fc.PROJECT_CODE and bool(x))
            v[i] = PROJECT_CODE_JUNK[int(rng.integers(0, len(PROJECT_CODE_JUNK)))].format(y=self.year)
        return v, "row"


def serialise(file: fc.FeedFile, rows: list[list[str | None]], modes: list[str], header: bool = True) -> str:
    """Rows of one batch file (the header first for CSV, unless `header` is False: a later chunk)."""
    buf = io.StringIO()
    if file.fmt == fc.JSONL:
        kinds = [c.kind for c in file.columns]
        names = file.column_names
        for vals, mode in zip(rows, modes, strict=True):
            obj = {n: json_value(k, x) for n, k, x in zip(names, kinds, vals, strict=True) if x is not None}
            for n, x in zip(names, vals, strict=True):
                if x is None:
                    obj.pop(n, None)
            line = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
            if mode == "truncate":
                line = line[: max(2, len(line) // 2)]
            buf.write(line + "\n")
        return buf.getvalue()
    w = csv.writer(buf, lineterminator="\r\n")
    if header:
        w.writerow(file.column_names)
    for vals, mode in zip(rows, modes, strict=True):
        if mode == "extra":
            w.writerow([*vals, "备注"])
        elif mode == "short":
            w.writerow(vals[:-1])
        else:
            w.writerow(vals)
    return buf.getvalue()


class BatchSource(Protocol):
    def batch(self, file: fc.FeedFile, day: int) -> Batch:
        """The file's rows of one batch day, typed, in delivery order (tables.py)."""


def write_batches(landing: Path, source: BatchSource, start_day: int, end_day: int, seed: int,
                  bad_row_rate: float, progress: bool = False, delivered: Delivered | None = None,
                  manifests: bool = True, desc: str = "batches") -> Stats:
    """Every feed's batches for the days. `delivered`: what earlier shards wrote to the same
    files (shards.py), appended to; `manifests`: False while later shards still have rows to add."""
    stats = Stats()
    delivered = {} if delivered is None else delivered
    days = range(start_day, end_day + 1)
    it = days
    if progress:
        from tqdm import tqdm

        it = tqdm(days, desc=desc, unit="day")
    for d in it:
        date = to_date(d).isoformat()
        produced = f"{to_date(d + 1).isoformat()}T01:30:00+08:00"
        for feed in fc.FEEDS:
            folder = landing / feed / date
            folder.mkdir(parents=True, exist_ok=True)
            entries = []
            for fi, f in enumerate(fc.FILES):
                if f.feed != feed:
                    continue
                rng = np.random.default_rng([seed, fi, d, zlib.crc32(b"bad")])
                part = delivered.setdefault((date, f.name), Part())
                entries.append(write_file(folder / f.name, f, source.batch(f, d), date, rng, bad_row_rate, stats, part))
            if manifests:
                manifest = {"feed": feed, "batch_date": date, "produced_at": produced, "files": entries}
                (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                                      encoding="utf-8")
                stats.batches += 1
    return stats


@dataclass
class Part:
    """A batch file as written so far: its rows and the sha256 of its bytes (the manifest's),
    carried from one shard to the next, which appends to it (shards.py)."""

    rows: int = 0
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    started: bool = False


Delivered = dict[tuple[str, str], Part]  # (batch date, file name) -> what is written


def write_file(path: Path, f: fc.FeedFile, batch: Batch, date: str, rng: np.random.Generator, bad_row_rate: float,
               stats: Stats, part: Part | None = None) -> dict[str, object]:
    """One batch file: its rows formatted and written CHUNK_ROWS at a time, each followed by the
    bad copies drawn for it; returns the manifest entry (name, rows, sha256). `part`: the file as
    an earlier shard left it, whose rows these follow (no second header; line numbers go on)."""
    part = part or Part()
    appending = part.started
    n_bad = int(rng.binomial(batch.count, bad_row_rate)) if batch.count and bad_row_rate > 0 else 0
    after = Counter(rng.choice(batch.count, size=n_bad).tolist()) if n_bad else Counter()
    maker = BadRows(f, date)
    first_line = 2 if f.fmt != fc.JSONL else 1
    pc = [i for i, c in enumerate(f.columns) if c.kind == fc.PROJECT_CODE]
    encoding = "gb18030" if f.fmt == fc.CSV_GB18030 else "utf-8"
    digest, written, i = part.digest, part.rows, 0
    with path.open("ab" if appending else "wb") as out:
        for k, typed in enumerate(batch.chunks(CHUNK_ROWS)):
            cols = [format_column(c.kind, typed[c.name]) for c in f.columns]
            rows: list[list[str | None]] = []
            modes: list[str] = []
            for vals in (list(r) for r in zip(*cols, strict=True)):
                line = first_line + written + len(rows)
                for j in pc:
                    x = vals[j]
                    if x and (x != x.strip() or not x.isascii() or " " in x):
                        stats.messy.append((f.feed, date, f.name, line, f.columns[j].name, x, normalise_project_code(x),
                                            "project_code_messy"))
                rows.append(vals)
                modes.append("row")
                for _ in range(after.get(i, 0)):
                    rule = maker.rules(vals)[int(rng.integers(0, len(maker.rules(vals))))]
                    bad, mode = maker.make(vals, rule, rng)
                    stats.bad.append((f.feed, date, f.name, first_line + written + len(rows), rule))
                    rows.append(bad)
                    modes.append(mode)
                i += 1
            data = serialise(f, rows, modes, header=k == 0 and not appending).encode(encoding)
            out.write(data)
            digest.update(data)
            written += len(rows)
    stats.rows[f.table] += written - part.rows
    part.rows, part.started = written, True
    return {"name": f.name, "rows": written, "sha256": digest.hexdigest()}


def ground_truth_lists(truth: list[tuple[str, str, str, str]], stats: Stats,
                       near_misses: list[tuple[str, str, str, str]] | None = None,
                       department_codes: list[tuple[str, str, str, str, str]] | None = None) -> dict[str, list[tuple]]:
    """Each ground-truth file's rows, sorted (department codes without repeats)."""
    return {"anomalies.csv": sorted(truth), "near_misses.csv": sorted(near_misses or []),
            "department_codes.csv": sorted(set(department_codes or [])), "bad_rows.csv": sorted(stats.bad),
            "messy_values.csv": sorted(stats.messy)}


GROUND_TRUTH_HEADERS = {
    "anomalies.csv": ("rule_id", "subject_type", "subject_id", "detail"),
    "near_misses.csv": ("rule_id", "subject_type", "subject_id", "detail"),
    "department_codes.csv": ("item_type", "item_id", "code_role", "delivered_code", "department_code"),
    "bad_rows.csv": ("feed", "batch_date", "file", "line", "rule"),
    "messy_values.csv": ("feed", "batch_date", "file", "line", "column", "value", "normalised", "detail"),
}


def write_ground_truth_files(landing: Path, rows: dict[str, Iterable[tuple]]) -> None:
    """`<landing>/_ground_truth/<name>` for each file of GROUND_TRUTH_HEADERS, its rows in order."""
    gt = landing / GROUND_TRUTH
    gt.mkdir(parents=True, exist_ok=True)
    for name, header in GROUND_TRUTH_HEADERS.items():
        with (gt / name).open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows[name])
