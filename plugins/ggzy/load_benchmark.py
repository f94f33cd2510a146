"""The loader benchmark (`ggzy bench load`): ggzy load against plain COPY and pandas.to_sql
on the same landing zone, into the same server.

All methods read the same files into ordinary (logged) text tables, one transaction per
batch (feed, day), in a separate database (ggzy_bench) that never touches the warehouse.
Plain COPY is measured two ways: appending every file to one bare text table per
contract file (no DDL, no checks: the limit, and the headline ratio), and one new table
per delivered file (the older loader's layout, kept as context). A CSV file that plain
COPY rejects (a row with a wrong number of fields) is COPYed as one text field per line
instead, decided before timing. Each run of ggzy load starts without the range's month
partitions, ledger rows and quarantine (a fresh year).
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ggzy import config
from ggzy.feeds import contract as c

BENCH_DB = "ggzy_bench"  # a separate database on the same server: the benchmark never touches the warehouse
METHODS = ("ours", "table", "append")  # ggzy load, COPY into a table per file, COPY appending


class PeakRss:
    """Peak resident memory of this process while a block runs (sampled every 20 ms)."""

    def __enter__(self) -> PeakRss:
        self.base = self.peak = self._rss()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._rss())

    @property
    def mb(self) -> float:
        return self.peak / 1e6


@dataclass(frozen=True)
class LandedFile:
    """One delivered file of the landing zone, with the plain-COPY plan decided before timing."""

    feed: str
    day: date
    ff: c.FeedFile
    path: Path
    rows: int  # data rows, as the manifest lists them
    plain_ok: bool  # plain COPY (csv, header) takes it; else one text field per line


@dataclass
class Measured:
    """What `run` measured: wall seconds per method and run, seconds per contract file,
    peak memory per method, and ggzy load's batch results of its last run."""

    runs: int
    workers: int
    files: list[LandedFile]
    timings: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in METHODS})
    per_file: dict[str, dict[str, list[float]]] = field(default_factory=lambda: {m: {} for m in METHODS})
    peaks: dict[str, float] = field(default_factory=dict)
    results: list = field(default_factory=list)
    pandas_s: float | None = None
    load_start: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


def prepare_database() -> str:
    """Create ggzy_bench on the warehouse's server (once) with the raw tables; its URL."""
    import psycopg

    from ggzy.feeds.raw import ensure_raw_tables

    with psycopg.connect(config.warehouse_url(), autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (BENCH_DB,)).fetchone():
            conn.execute(f"create database {BENCH_DB}")
    url = config.with_database(config.warehouse_url(), BENCH_DB)  # the same server, also an external one
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_raw_tables(conn)
        conn.execute("create schema if not exists bench")
    return url


def landing_zone(landing: str | None, scale: float, echo: Callable[[str], None]) -> Path:
    """The given landing zone, else $GGZY_HOME/bench/landing-scale-S (generated for 2026 if missing)."""
    root = Path(landing) if landing else config.home() / "bench" / f"landing-scale-{scale:g}"
    if not (root / "trading_centre").is_dir():
        from ggzy.generator import generate

        echo(f"generating {root} (scale {scale:g}, 2026-01-01 .. 2026-12-31) ...")
        generate(root, date(2026, 1, 1), date(2026, 12, 31), scale=scale, progress=True)
    return root


def landed_files(root: Path, first: date, last: date) -> list[LandedFile]:
    """The files of the batches between `first` and `last`, as their manifests list them."""
    from ggzy.feeds.load import batch_dates
    from ggzy.feeds.manifest import ENCODINGS

    files = []
    for feed in c.FEEDS:
        for d in batch_dates(root, feed):
            if not first <= d <= last:
                continue
            folder = root / feed / d.isoformat()
            listed = {f["name"]: f["rows"] for f in json.loads((folder / "manifest.json").read_text())["files"]}
            for ff in c.files_of(feed):
                if ff.name not in listed:
                    continue
                path = folder / ff.name
                ok = True
                if ff.fmt != c.JSONL:
                    with open(path, encoding=ENCODINGS[ff.fmt], newline="", errors="replace") as fh:
                        rd = csv.reader(fh)
                        header = next(rd, [])
                        ok = all(len(rec) == len(header) for rec in rd)
                files.append(LandedFile(feed, d, ff, path, listed[ff.name], ok))
    return files


def _copy_sql(table: str, ff: c.FeedFile, ok: bool) -> str:
    enc = ", encoding 'GB18030'" if ff.fmt == c.CSV_GB18030 else ""
    if ok and ff.fmt != c.JSONL:
        return f"copy {table} from stdin (format csv, header{enc})"
    return f"copy {table}_l from stdin (format csv, quote e'\\x01', delimiter e'\\x02'{enc})"


def _columns(ff: c.FeedFile) -> str:
    return ", ".join(f'"{n}" text' for n in ff.column_names)


def reset_bench_schema(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop schema if exists bench cascade")
        conn.execute("create schema bench")


def plain_copy(url: str, files: list[LandedFile], per_file: bool) -> tuple[float, dict[str, float]]:
    """One transaction per batch; returns (wall seconds, seconds per contract file)."""
    import psycopg

    reset_bench_schema(url)
    by_file: dict[str, float] = {}
    with psycopg.connect(url) as conn:
        if not per_file:
            for ff in c.FILES:
                conn.execute(f'create table bench."{ff.table}" ({_columns(ff)}); '
                             f'create table bench."{ff.table}_l" (doc text)')
            conn.commit()
        t0 = time.perf_counter()
        batch = None
        for f in files:
            if (f.feed, f.day) != batch:
                conn.commit()
                batch = (f.feed, f.day)
            t = time.perf_counter()
            if per_file:
                if not f.rows:
                    continue  # like ggzy load, no table for a file without data rows
                table = f'bench."{f.ff.table}_{f.day:%Y%m%d}"'
                ddl = f'create table {table} ({_columns(f.ff)})' if f.plain_ok and f.ff.fmt != c.JSONL else \
                    f'create table bench."{f.ff.table}_{f.day:%Y%m%d}_l" (doc text)'
                conn.execute(ddl)
                target = f'bench."{f.ff.table}_{f.day:%Y%m%d}"'
            else:
                target = f'bench."{f.ff.table}"'
            sql_text = _copy_sql(target, f.ff, f.plain_ok).replace('"_l from', '_l" from')
            with conn.cursor() as cur, cur.copy(sql_text) as cp, open(f.path, "rb") as fh:
                while block := fh.read(1 << 20):
                    cp.write(block)
            by_file[f.ff.name] = by_file.get(f.ff.name, 0.0) + time.perf_counter() - t
        conn.commit()
        return time.perf_counter() - t0, by_file


def _reset_raw(url: str, days: list[date]) -> None:
    import psycopg

    from ggzy.feeds.raw import partition_name

    with psycopg.connect(url, autocommit=True) as conn:
        for ff in c.FILES:  # every run starts without the range's month partitions (a fresh year)
            for name in sorted({partition_name(ff, d) for d in days}):
                conn.execute(f'drop table if exists raw."{name}"')
        conn.execute("delete from raw.batches where batch_date between %s and %s", (days[0], days[-1]))
        conn.execute("delete from raw.batch_events where batch_date between %s and %s", (days[0], days[-1]))
        conn.execute("delete from raw.quarantine where batch_date between %s and %s", (days[0], days[-1]))
        conn.execute("checkpoint")


def ggzy_load(url: str, root: Path, days: list[date], workers: int) -> tuple[float, dict[str, float], list]:
    """load_range over the days; (wall seconds, seconds per contract file inside the workers, results)."""
    from ggzy.feeds.load import load_range

    _reset_raw(url, days)
    t0 = time.perf_counter()
    results = load_range(root, days[0], days[-1], url=url, workers=workers)
    wall = time.perf_counter() - t0
    by_file: dict[str, float] = {}
    for res in results:
        for f in res.files:
            by_file[f.name] = by_file.get(f.name, 0.0) + sum(f.seconds.values())
    return wall, by_file, results


def pandas_to_sql(url: str, files: list[LandedFile]) -> tuple[float, float]:
    """pandas.read_csv/json + DataFrame.to_sql of every file once; (seconds, peak MB)."""
    import pandas as pd
    from sqlalchemy import create_engine

    from ggzy.feeds.manifest import ENCODINGS

    reset_bench_schema(url)
    engine = create_engine(config.sqlalchemy_url(url))
    with PeakRss() as mem:
        t0 = time.perf_counter()
        for f in files:
            if not f.rows:
                continue
            if f.ff.fmt == c.JSONL:  # pandas has no bad-line skipping for JSON: parse per line
                objs = []
                with open(f.path, encoding="utf-8", errors="replace") as fh:
                    for line in fh:
                        try:
                            objs.append(json.loads(line))
                        except ValueError:
                            continue
                df = pd.DataFrame([o for o in objs if isinstance(o, dict)]).astype("string")
            else:
                df = pd.read_csv(f.path, dtype=str, encoding=ENCODINGS[f.ff.fmt], keep_default_na=False,
                                 on_bad_lines="skip", encoding_errors="replace")
            # method="multi" binds every value as a parameter: at most 65535 per statement
            df.to_sql(f.ff.table, engine, schema="bench", if_exists="append", index=False,
                      chunksize=max(1, 60000 // max(1, len(df.columns))), method="multi")
        seconds = time.perf_counter() - t0
    engine.dispose()
    return seconds, mem.mb


def run(url: str, root: Path, files: list[LandedFile], runs: int, workers: int, with_pandas: bool,
        echo: Callable[[str], None]) -> Measured:
    """Interleave the three methods `runs` times (order alternating), then pandas once."""
    import psycopg

    days = sorted({f.day for f in files})
    m = Measured(runs, workers, files, load_start=os.getloadavg())
    for i in range(runs):
        order = ["table", "ours", "append"] if i % 2 == 0 else ["append", "ours", "table"]
        for method in order:
            with PeakRss() as mem:
                if method == "ours":
                    wall, by, m.results = ggzy_load(url, root, days, workers)
                else:
                    with psycopg.connect(url, autocommit=True) as conn:
                        conn.execute("checkpoint")
                    wall, by = plain_copy(url, files, method == "table")
            m.peaks[method] = max(m.peaks.get(method, 0.0), mem.mb)
            m.timings[method].append(wall)
            for k, v in by.items():
                m.per_file[method].setdefault(k, []).append(v)
            echo(f"  run {i + 1}: {method:6} {wall:7.2f} s")
    if with_pandas:
        m.pandas_s, m.peaks["pandas"] = pandas_to_sql(url, files)
    reset_bench_schema(url)
    return m


def describe(root: Path, files: list[LandedFile], runs: int) -> str:
    days = sorted({f.day for f in files})
    size = sum(f.path.stat().st_size for f in files)
    n_data = sum(1 for f in files if f.rows)
    return (f"landing {root}: {days[0]} .. {days[-1]}, {len(files)} files ({n_data} with data rows, "
            f"{len(files) - n_data} header only), {size / 1e6:.1f} MB, {sum(f.rows for f in files):,} data rows; "
            f"{runs} interleaved run(s) per method")


def report(m: Measured) -> list[str]:
    """The lines `ggzy bench load` prints after the runs."""
    med = {k: statistics.median(v) for k, v in m.timings.items()}
    rows = m.rows

    def line(label: str, key: str, s: float, note: str = "") -> str:
        return (f"{label:28} {s:8.2f} s {rows / s:11,.0f} rows/s   {med['append'] / s:5.2f}x   {med['table'] / s:5.2f}x"
                f"   {m.peaks.get(key, 0):6.0f} MB  {note}")

    def runs_of(key: str) -> str:
        return ", ".join(f"{x:.1f}" for x in m.timings[key])

    out = ["", f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}; "
               f"at the start: {', '.join(f'{x:.2f}' for x in m.load_start)}",
           f"{f'method (median of {m.runs})':28} {'wall':>10} {'throughput':>18}   {'vs COPY':>7}  "
           f"{'vs COPY':>7}   {'peak RSS':>8}",
           f"{'':28} {'':>10} {'':>18}   {'append':>7}  {'per file':>7}",
           line("ggzy load", "ours", med["ours"], f"{m.workers} connection(s); runs: " + runs_of("ours")),
           line("copy, table per file", "table", med["table"], "runs: " + runs_of("table")),
           line("copy, append", "append", med["append"], "runs: " + runs_of("append"))]
    if m.pandas_s:
        out.append(line("pandas.to_sql", "pandas", m.pandas_s, "one run"))
    out += ["", "per contract file (seconds summed over the batches; ggzy load measured inside its workers, "
                "which overlap):",
            f"  {'file':18} {'rows':>9} {'ggzy load':>10} {'copy/append':>11} {'copy/table':>10} {'vs append':>9}"]
    for ff in c.FILES:
        if not any(f.ff is ff for f in m.files):
            continue
        n = sum(f.rows for f in m.files if f.ff is ff)
        o, t, a = (statistics.median(m.per_file[k].get(ff.name, [0.0])) for k in ("ours", "table", "append"))
        out.append(f"  {ff.name:18} {n:9,} {o:10.2f} {a:11.2f} {t:10.2f} {a / o if o else 0:9.2f}")
    phases: dict[str, float] = {}
    for res in m.results:
        for f in res.files:
            for k, v in f.seconds.items():
                phases[k] = phases.get(k, 0.0) + v
    batch_s = sum(res.seconds for res in m.results) - sum(phases.values())
    refused = [res for res in m.results if res.status == "refused"]
    out += ["", "ggzy load, last run, seconds summed over its workers' batches: "
            + ", ".join(f"{k} {v:.2f}" for k, v in phases.items())
            + f"; per batch before its ledger and COMMIT (manifest, lock, delete of an earlier delivery, "
              f"client-side quarantine) {batch_s:.2f}",
            "", f"ggzy load: {len(m.results)} batches ({len(refused)} refused), "
                f"{sum(res.loaded for res in m.results):,} rows loaded, "
                f"{sum(res.quarantined for res in m.results):,} quarantined; "
                "peak RSS = whole client process while the method ran"]
    out += [f"refused: {res.refusal}" for res in refused]
    return out
