"""ggzy bench: measurements. `ggzy bench load` compares the loader with plain COPY
and pandas.to_sql on the same files. Other engineers add subcommands to `bench`."""

from __future__ import annotations

import click


@click.group()
def bench() -> None:
    """Benchmarks (each prints what it measured)."""


BENCH_DB = "ggzy_bench"  # a separate database on the same server: the benchmark never touches the warehouse


class _PeakRss:
    """Peak resident memory of this process while a block runs (sampled every 20 ms)."""

    def __enter__(self) -> _PeakRss:
        import threading

        self.base = self.peak = self._rss()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    @staticmethod
    def _rss() -> int:
        import os

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


@bench.command("load")
@click.option("--scale", type=float, default=1.0, show_default=True, help="Generator scale (1 = a province-year).")
@click.option("--landing", type=click.Path(file_okay=False), default=None,
              help="Landing zone to load (default: $GGZY_HOME/bench/landing-scale-S, generated for 2026 if missing).")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First batch date (default: all).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last batch date (default: all).")
@click.option("--runs", type=int, default=2, show_default=True, help="Interleaved runs of each method; medians reported.")
@click.option("--workers", type=int, default=2, show_default=True, help="Connections of ggzy load (load_range).")
@click.option("--pandas/--no-pandas", "with_pandas", default=True, help="Also time pandas.to_sql once (slow).")
def bench_load(scale: float, landing: str | None, start, end, runs: int, workers: int, with_pandas: bool) -> None:
    """Load a landing zone with ggzy load, plain COPY and pandas.to_sql; print rows/s, ratios and peak memory.

    All methods read the same files into the same server, into ordinary (logged)
    text tables, one transaction per batch (feed, day), in a separate database
    (ggzy_bench). Plain COPY is measured two ways:

    \b
    - COPY, append: every file appended to one pre-created bare text table per
      contract file (no DDL, no checks): the limit. The headline ratio is ggzy
      load against this one, over the whole landing zone (issue 3: >= 0.7x);
    - COPY, table per file: each delivered file with data rows COPYed into a new
      bare text table (the layout of the older loader, one partition per file
      and day), kept as context.

    A CSV file that plain COPY rejects (a row with a wrong number of fields) is
    COPYed as one text field per line instead (decided before timing). Each run
    of ggzy load starts without the range's month partitions, ledger rows and
    quarantine (a fresh year).
    """
    import csv
    import json
    import os
    import statistics
    import time
    from datetime import date
    from pathlib import Path

    import psycopg

    from ggzy import config
    from ggzy.feeds import contract as c
    from ggzy.feeds.load import batch_dates, load_range
    from ggzy.feeds.manifest import ENCODINGS
    from ggzy.feeds.raw import ensure_raw_tables, partition_name

    base_url = config.warehouse_url()
    with psycopg.connect(base_url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (BENCH_DB,)).fetchone():
            conn.execute(f"create database {BENCH_DB}")
    url = config.warehouse_url(BENCH_DB)
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_raw_tables(conn)
        conn.execute("create schema if not exists bench")

    root = Path(landing) if landing else config.home() / "bench" / f"landing-scale-{scale:g}"
    if not (root / "trading_centre").is_dir():
        from ggzy.generator import generate

        click.echo(f"generating {root} (scale {scale:g}, 2026-01-01 .. 2026-12-31) ...")
        generate(root, date(2026, 1, 1), date(2026, 12, 31), scale=scale, progress=True)
    first = start.date() if start else date.min
    last = end.date() if end else date.max

    # The files, with the plain-COPY plan decided before any timing.
    files = []  # (feed, day, ff, path, rows, plain_ok)
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
                files.append((feed, d, ff, path, listed[ff.name], ok))
    if not files:
        raise click.UsageError(f"no batches in {root} between {first} and {last}")
    days = sorted({d for _f, d, *_ in files})
    rows = sum(f[4] for f in files)
    size = sum(f[3].stat().st_size for f in files)
    n_data = sum(1 for f in files if f[4])
    click.echo(f"landing {root}: {days[0]} .. {days[-1]}, {len(files)} files ({n_data} with data rows, "
               f"{len(files) - n_data} header only), {size / 1e6:.1f} MB, {rows:,} data rows; "
               f"{runs} interleaved run(s) per method")

    def copy_sql(table: str, ff: c.FeedFile, ok: bool) -> str:
        enc = ", encoding 'GB18030'" if ff.fmt == c.CSV_GB18030 else ""
        if ok and ff.fmt != c.JSONL:
            return f"copy {table} from stdin (format csv, header{enc})"
        return f"copy {table}_l from stdin (format csv, quote e'\\x01', delimiter e'\\x02'{enc})"

    def cols_of(ff: c.FeedFile) -> str:
        return ", ".join(f'"{n}" text' for n in ff.column_names)

    def reset_bench() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("drop schema if exists bench cascade")
            conn.execute("create schema bench")

    def plain_copy(per_file: bool) -> tuple[float, dict[str, float]]:
        """One transaction per batch; returns (wall seconds, seconds per contract file)."""
        reset_bench()
        by_file: dict[str, float] = {}
        with psycopg.connect(url) as conn:
            if not per_file:
                for ff in c.FILES:
                    conn.execute(f'create table bench."{ff.table}" ({cols_of(ff)}); '
                                 f'create table bench."{ff.table}_l" (doc text)')
                conn.commit()
            t0 = time.perf_counter()
            batch = None
            for feed, d, ff, path, n, ok in files:
                if (feed, d) != batch:
                    conn.commit()
                    batch = (feed, d)
                t = time.perf_counter()
                if per_file:
                    if not n:
                        continue  # like ggzy load, no table for a file without data rows
                    table = f'bench."{ff.table}_{d:%Y%m%d}"'
                    ddl = f'create table {table} ({cols_of(ff)})' if ok and ff.fmt != c.JSONL else \
                        f'create table bench."{ff.table}_{d:%Y%m%d}_l" (doc text)'
                    conn.execute(ddl)
                    target = f'bench."{ff.table}_{d:%Y%m%d}"'
                else:
                    target = f'bench."{ff.table}"'
                sql_text = copy_sql(target, ff, ok).replace('"_l from', '_l" from')
                with conn.cursor() as cur, cur.copy(sql_text) as cp, open(path, "rb") as fh:
                    while block := fh.read(1 << 20):
                        cp.write(block)
                by_file[ff.name] = by_file.get(ff.name, 0.0) + time.perf_counter() - t
            conn.commit()
            return time.perf_counter() - t0, by_file

    def reset_raw() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            for ff in c.FILES:  # every run starts without the range's month partitions (a fresh year)
                for name in sorted({partition_name(ff, d) for d in days}):
                    conn.execute(f'drop table if exists raw."{name}"')
            conn.execute("delete from raw.batches where batch_date between %s and %s", (days[0], days[-1]))
            conn.execute("delete from raw.batch_events where batch_date between %s and %s", (days[0], days[-1]))
            conn.execute("delete from raw.quarantine where batch_date between %s and %s", (days[0], days[-1]))
            conn.execute("checkpoint")

    def ours() -> tuple[float, dict[str, float], list]:
        reset_raw()
        t0 = time.perf_counter()
        results = load_range(root, days[0], days[-1], url=url, workers=workers)
        wall = time.perf_counter() - t0
        by_file: dict[str, float] = {}
        for res in results:
            for f in res.files:
                by_file[f.name] = by_file.get(f.name, 0.0) + sum(f.seconds.values())
        return wall, by_file, results

    load_start = os.getloadavg()
    timings: dict[str, list[float]] = {"ours": [], "table": [], "append": []}
    per_file: dict[str, dict[str, list[float]]] = {"ours": {}, "table": {}, "append": {}}
    peaks: dict[str, float] = {}
    results: list = []
    for i in range(runs):
        order = ["table", "ours", "append"] if i % 2 == 0 else ["append", "ours", "table"]
        for method in order:
            with _PeakRss() as mem:
                if method == "ours":
                    wall, by, results = ours()
                else:
                    with psycopg.connect(url, autocommit=True) as conn:
                        conn.execute("checkpoint")
                    wall, by = plain_copy(method == "table")
            peaks[method] = max(peaks.get(method, 0.0), mem.mb)
            timings[method].append(wall)
            for k, v in by.items():
                per_file[method].setdefault(k, []).append(v)
            click.echo(f"  run {i + 1}: {method:6} {wall:7.2f} s")

    pandas_s = None
    if with_pandas:
        import pandas as pd
        from sqlalchemy import create_engine

        reset_bench()
        engine = create_engine(config.sqlalchemy_url(url))
        with _PeakRss() as mem:
            t0 = time.perf_counter()
            for _feed, _d, ff, path, n, _ok in files:
                if not n:
                    continue
                if ff.fmt == c.JSONL:  # pandas has no bad-line skipping for JSON: parse per line
                    objs = []
                    with open(path, encoding="utf-8", errors="replace") as fh:
                        for line in fh:
                            try:
                                objs.append(json.loads(line))
                            except ValueError:
                                continue
                    df = pd.DataFrame([o for o in objs if isinstance(o, dict)]).astype("string")
                else:
                    df = pd.read_csv(path, dtype=str, encoding=ENCODINGS[ff.fmt], keep_default_na=False,
                                     on_bad_lines="skip", encoding_errors="replace")
                # method="multi" binds every value as a parameter: at most 65535 per statement
                df.to_sql(ff.table, engine, schema="bench", if_exists="append", index=False,
                          chunksize=max(1, 60000 // max(1, len(df.columns))), method="multi")
            pandas_s = time.perf_counter() - t0
        peaks["pandas"] = mem.mb
        engine.dispose()
    reset_bench()

    med = {k: statistics.median(v) for k, v in timings.items()}
    refused = [res for res in results if res.status == "refused"]
    loaded = sum(res.loaded for res in results)
    quarantined = sum(res.quarantined for res in results)

    def line(label: str, key: str, s: float, note: str = "") -> str:
        return (f"{label:28} {s:8.2f} s {rows / s:11,.0f} rows/s   {med['append'] / s:5.2f}x   {med['table'] / s:5.2f}x"
                f"   {peaks.get(key, 0):6.0f} MB  {note}")

    click.echo("")
    click.echo(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}; "
               f"at the start: {', '.join(f'{x:.2f}' for x in load_start)}")
    click.echo(f"{f'method (median of {runs})':28} {'wall':>10} {'throughput':>18}   {'vs COPY':>7}  "
               f"{'vs COPY':>7}   {'peak RSS':>8}")
    click.echo(f"{'':28} {'':>10} {'':>18}   {'append':>7}  {'per file':>7}")
    click.echo(line("ggzy load", "ours", med["ours"], f"{workers} connection(s); runs: "
                    + ", ".join(f"{x:.1f}" for x in timings["ours"])))
    click.echo(line("copy, table per file", "table", med["table"], "runs: " + ", ".join(f"{x:.1f}" for x in timings["table"])))
    click.echo(line("copy, append", "append", med["append"], "runs: " + ", ".join(f"{x:.1f}" for x in timings["append"])))
    if pandas_s:
        click.echo(line("pandas.to_sql", "pandas", pandas_s, "one run"))
    click.echo("")
    click.echo("per contract file (seconds summed over the batches; ggzy load measured inside its workers, "
               "which overlap):")
    click.echo(f"  {'file':18} {'rows':>9} {'ggzy load':>10} {'copy/append':>11} {'copy/table':>10} "
               f"{'vs append':>9}")
    for ff in c.FILES:
        n = sum(f[4] for f in files if f[2] is ff)
        if not any(f[2] is ff for f in files):
            continue
        o = statistics.median(per_file["ours"].get(ff.name, [0.0]))
        t = statistics.median(per_file["table"].get(ff.name, [0.0]))
        a = statistics.median(per_file["append"].get(ff.name, [0.0]))
        click.echo(f"  {ff.name:18} {n:9,} {o:10.2f} {a:11.2f} {t:10.2f} {a / o if o else 0:9.2f}")
    click.echo("")
    phases: dict[str, float] = {}
    for res in results:
        for f in res.files:
            for k, v in f.seconds.items():
                phases[k] = phases.get(k, 0.0) + v
    file_s = sum(phases.values())
    batch_s = sum(res.seconds for res in results) - file_s
    click.echo("ggzy load, last run, seconds summed over its workers' batches: "
               + ", ".join(f"{k} {v:.2f}" for k, v in phases.items())
               + f"; per batch before its ledger and COMMIT (manifest, lock, delete of an earlier delivery, "
               f"client-side quarantine) {batch_s:.2f}")
    click.echo("")
    click.echo(f"ggzy load: {len(results)} batches ({len(refused)} refused), {loaded:,} rows loaded, "
               f"{quarantined:,} quarantined; peak RSS = whole client process while the method ran")
    for res in refused:
        click.echo(f"refused: {res.refusal}")


commands = [bench]
