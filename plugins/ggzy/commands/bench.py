"""ggzy bench: measurements. `ggzy bench load` compares the loader with plain COPY
and pandas.to_sql on the same files (measured by ggzy.load_benchmark); `ggzy bench
pipeline` (commands/bench_pipeline.py) times the whole pipeline (ggzy.benchmark)."""

from __future__ import annotations

import click


@click.group()
def bench() -> None:
    """Benchmarks (each prints what it measured)."""


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
    from datetime import date

    from ggzy import load_benchmark as lb

    url = lb.prepare_database()
    root = lb.landing_zone(landing, scale, click.echo)
    first = start.date() if start else date.min
    last = end.date() if end else date.max
    files = lb.landed_files(root, first, last)
    if not files:
        raise click.UsageError(f"no batches in {root} between {first} and {last}")
    click.echo(lb.describe(root, files, runs))
    measured = lb.run(url, root, files, runs, workers, with_pandas, click.echo)
    for line in lb.report(measured):
        click.echo(line)

commands = [bench]
