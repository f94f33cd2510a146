"""ggzy bench pipeline; and the two steps it times that have no command elsewhere:
ggzy gate (GX quality gate for a date) and ggzy outputs (alerts + publication)."""

from __future__ import annotations

import datetime as dt

import click

from ggzy.cli_types import ISO_DATE
from ggzy.commands.bench import bench


@bench.command("pipeline")
@click.option("--scale", "scales", type=float, multiple=True, default=(1.0, 4.0), show_default=True,
              help="Scales to run (1 = a province-year); give --scale 16 on request.")
@click.option("--keep", is_flag=True, help="Keep the generated landing zones and warehouses.")
@click.option("--write", "write_to", type=click.Path(dir_okay=False), default=None,
              help="Append the report to this markdown file (e.g. docs/benchmarks.md).")
@click.option("--reuse", type=click.Path(file_okay=False, exists=True), default=None,
              help="A kept run's work dir: its scale-S/landing zones are loaded where they lie, not generated "
                   "again (the report's generation step then reads 0 s: 'reused, not timed').")
@click.option("--no-compare", is_flag=True,
              help="Skip the closing dbt build --full-refresh (a comparison, not part of the night).")
def bench_pipeline(scales: tuple[float, ...], keep: bool, write_to: str | None, reuse: str | None,
                   no_compare: bool) -> None:
    """Generation, load, quality gate, dbt build and outputs for a year, and one night."""
    from pathlib import Path

    from ggzy.benchmark import run

    text = run(list(scales), keep=keep, reuse=Path(reuse) if reuse else None, compare=not no_compare)
    click.echo(text)
    if write_to:
        with open(write_to, "a", encoding="utf-8") as fh:
            fh.write("\n## Pipeline (ggzy bench pipeline)\n\n" + text + "\n")


@click.command()
@click.option("--date", "date", required=True, type=ISO_DATE, help="batch date YYYY-MM-DD")
def gate(date: str) -> None:
    """Run the Great Expectations quality gate on a date's raw batches (exit 1 when it fails)."""
    from ggzy.quality import run_gate

    out = run_gate(None, dt.date.fromisoformat(date), run_id="cli")
    click.echo(out)
    if not out["passed"]:
        click.echo("quality gate FAILED (publication for this date will be withheld)")
        raise SystemExit(1)


@click.command()
@click.option("--date", "date", required=True, type=ISO_DATE, help="batch date YYYY-MM-DD")
@click.option("--only", type=click.Choice(["alerts", "publication"]), default=None,
              help="Run one of the two outputs (the benchmark times them separately).")
def outputs(date: str, only: str | None) -> None:
    """Sync alerts from the risk marts and publish the date's disclosure (if its gate passed).

    Exit 1 when the publication was attempted and refused (gate failed, personal data found, ...)."""
    from ggzy import config, pipeline

    url = config.warehouse_url()
    if only in (None, "alerts"):
        click.echo(pipeline.sync_alerts(url, run_id=f"cli-{date}"))
    if only in (None, "publication"):
        pub = pipeline.publish(url, dt.date.fromisoformat(date))
        click.echo(pub)
        if not pub.get("published") and pub.get("recorded", True):  # attempted and refused (not: already out)
            click.echo(f"publication for {date} REFUSED: {pub.get('reason')}")
            raise SystemExit(1)


commands = [gate, outputs]
