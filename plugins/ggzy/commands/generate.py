"""ggzy generate: write a demo landing zone (daily batches of the four feeds + ground truth)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--landing", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Landing folder (default: $GGZY_LANDING).")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First batch date.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last batch date (inclusive).")
@click.option("--scale", type=click.FloatRange(min=0, min_open=True), default=0.05, show_default=True,
              help="1 = a province-year (~20k lots, 150k bids, 1M expert scores over 365 days). Above 1: "
                   "ceil(scale) shards of the same province (no shared identifier), generated one after "
                   "another into the same files, so memory stays that of one shard (scale <= 1 unchanged).")
@click.option("--seed", type=int, default=20261123, show_default=True)
@click.option("--bad-row-rate", type=click.FloatRange(0, 1), default=0.01, show_default=True, help="Share of extra bad rows.")
@click.option("--anomaly-rate", type=click.FloatRange(min=0), default=1.0, show_default=True, help="Multiplier of injected anomalies.")
def generate(landing: Path | None, start, end, scale: float, seed: int, bad_row_rate: float, anomaly_rate: float) -> None:
    """Generate a deterministic demo landing zone with ground truth in <landing>/_ground_truth/."""
    from ggzy.generator import generate as run

    if landing is None:
        from ggzy import config

        landing = config.landing()
    summary = run(landing, start.date(), end.date(), scale=scale, seed=seed, bad_row_rate=bad_row_rate,
                  anomaly_rate=anomaly_rate, progress=True)
    for line in summary.lines():
        click.echo(line)


commands = [generate]
