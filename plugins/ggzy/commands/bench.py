"""ggzy bench: measurements. `ggzy bench load` compares the loader with plain COPY
and pandas.to_sql on the same files. Other engineers add subcommands to `bench`."""

from __future__ import annotations

import click


@click.group()
def bench() -> None:
    """Benchmarks (each prints what it measured)."""


# Synthetic sizes per file at scale 1 (used only while ggzy.generator is missing).
SYNTH_ROWS = {"bids.csv": 60000, "tenders.csv": 8000, "entities.csv": 5000, "evaluations.csv": 20000,
              "projects.jsonl": 8000, "milestones.jsonl": 4000, "records.jsonl": 4000, "taxpayers.csv": 8000}


@bench.command("load")
@click.option("--scale", type=float, default=1.0, show_default=True)
@click.option("--days", type=int, default=3, show_default=True, help="Batch days to generate/load.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--pandas/--no-pandas", "with_pandas", default=True, help="Also time pandas.to_sql (slow).")
def bench_load(scale: float, days: int, seed: int, with_pandas: bool) -> None:
    """Load a scale-N landing zone; print rows/s vs plain COPY and pandas.to_sql, and peak memory."""
    import json
    import resource
    import time
    import tracemalloc
    from datetime import date, timedelta

    import psycopg

    from ggzy import config, schema
    from ggzy.feeds import contract as c
    from ggzy.feeds import synth
    from ggzy.feeds.load import batch_dates, load_range
    from ggzy.feeds.manifest import ENCODINGS

    url = config.warehouse_url()
    schema.bootstrap(url)
    start = date(2024, 3, 1)
    end = start + timedelta(days=days - 1)
    landing = config.home() / "bench" / f"landing-scale-{scale:g}-days-{days}-seed-{seed}"
    if not (landing / "trading_centre").is_dir():
        try:
            from ggzy.generator import generate  # type: ignore[attr-defined]

            click.echo(f"generating {landing} with ggzy.generator ...")
            generate(landing, start, end, scale, seed, 0.01)
        except ImportError:
            click.echo(f"ggzy.generator not available: synthesising valid files into {landing} ...")
            for i in range(days):
                for feed in c.FEEDS:
                    synth.write_batch(landing, feed, start + timedelta(days=i),
                                      {k: int(v * scale) for k, v in SYNTH_ROWS.items()}, seed)
    files = [(feed, d, ff) for feed in c.FEEDS for d in batch_dates(landing, feed) if start <= d <= end
             for ff in c.files_of(feed) if (landing / feed / d.isoformat() / ff.name).is_file()]
    size = sum((landing / f / d.isoformat() / ff.name).stat().st_size for f, d, ff in files)

    # 1. our loader
    tracemalloc.start()
    t = time.perf_counter()
    results = load_range(landing, start, end, url=url)
    ours = time.perf_counter() - t
    _cur, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after_ours = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = sum(res.delivered for res in results)
    phases: dict[str, float] = {}
    for res in results:
        for f in res.files:
            for k, v in f.seconds.items():
                phases[k] = phases.get(k, 0.0) + v
    refused = [res for res in results if res.status == "refused"]

    # 2. plain COPY of the same files into bare text tables. A CSV file that plain
    # COPY cannot take (a row with the wrong number of fields fails the whole file)
    # is COPYed again as one text field per line, which is cheaper still.
    lines_sql = "copy bare1 from stdin (format csv, quote e'\\x01', delimiter e'\\x02')"
    fallbacks = 0
    t = time.perf_counter()
    with psycopg.connect(url) as conn:
        for feed, d, ff in files:
            path = landing / feed / d.isoformat() / ff.name
            cols = ", ".join(f'"{n}" text' for n in ff.column_names)
            enc = ", encoding 'GB18030'" if ff.fmt == c.CSV_GB18030 else ""
            attempts = [lines_sql] if ff.fmt == c.JSONL else [f"copy bench_bare from stdin (format csv, header{enc})",
                                                              lines_sql]
            for i, sql in enumerate(attempts):
                try:
                    with conn.transaction():
                        conn.execute(f"create table bench_bare ({cols})")
                        conn.execute("create table bare1 (doc text)")
                        with conn.cursor() as cur, cur.copy(sql) as cp, open(path, "rb") as fh:
                            while block := fh.read(1 << 20):
                                cp.write(block)
                        conn.execute("drop table bench_bare; drop table bare1")
                    fallbacks += i
                    break
                except psycopg.errors.DataError:
                    continue
    plain = time.perf_counter() - t

    # 3. pandas.to_sql
    pandas_s = None
    if with_pandas:
        import pandas as pd
        from sqlalchemy import create_engine

        engine = create_engine(config.sqlalchemy_url(url))
        t = time.perf_counter()
        for feed, d, ff in files:
            path = landing / feed / d.isoformat() / ff.name
            if path.stat().st_size == 0:
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
            df.to_sql("bench_pandas", engine, if_exists="replace", index=False, chunksize=10000, method="multi")
        pandas_s = time.perf_counter() - t
        with engine.begin() as cx:
            cx.exec_driver_sql("drop table if exists bench_pandas")
        engine.dispose()

    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    click.echo(f"landing {landing}: {len(files)} files, {size / 1e6:.1f} MB, {rows} data rows, "
               f"{len(results)} batches ({len(refused)} refused)")
    click.echo(f"ggzy load      {ours:7.2f} s  {rows / ours:10,.0f} rows/s  ratio vs COPY {plain / ours:.2f}x")
    click.echo(f"plain COPY     {plain:7.2f} s  {rows / plain:10,.0f} rows/s  (bare text tables, no checks; "
               f"{fallbacks} CSV file(s) failed plain COPY and were COPYed as one field per line)")
    if pandas_s:
        click.echo(f"pandas.to_sql  {pandas_s:7.2f} s  {rows / pandas_s:10,.0f} rows/s  ratio vs COPY "
                   f"{plain / pandas_s:.2f}x")
    click.echo("loader phases: " + ", ".join(f"{k} {v:.2f}s" for k, v in phases.items()))
    click.echo(f"client memory: python peak during load {py_peak / 1e6:.1f} MB (tracemalloc), "
               f"max RSS after our load {rss_after_ours:.0f} MB, after all {rss_peak:.0f} MB")
    for res in refused:
        click.echo(f"refused: {res.refusal}")


commands = [bench]
