"""ggzy eval: precision/recall of every risk rule against the generator's ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("eval")
@click.option("--landing", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Landing folder holding _ground_truth/anomalies.csv (default: GGZY_LANDING).")
@click.option("--min-recall", type=float, default=None,
              help="Fail (exit 1) when a deterministic rule's recall is below this.")
@click.option("--min-precision", type=float, default=None,
              help="Fail (exit 1) when a deterministic rule's precision is below this.")
@click.option("--min-auc", type=float, default=None,
              help="Fail (exit 1) when a screen's AUC (planted vs clean lots) is below this.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON instead of a table.")
def eval_(landing: Path | None, min_recall: float | None, min_precision: float | None,
          min_auc: float | None, as_json: bool) -> None:
    """Score every risk rule of marts.fct_risk_signals against the demo ground truth.

    Prints per-rule precision and recall, overall figures, and the AUC with which the
    statistical screens rank the planted ring lots above clean lots.
    """
    from ggzy import config
    from ggzy.evaluation import evaluate, render

    ev = evaluate(landing or config.landing())
    click.echo(json.dumps(ev.as_dict(), indent=2, ensure_ascii=False) if as_json else render(ev))
    failures = ev.failures(min_recall, min_precision, min_auc)
    if failures:
        click.echo("\nBelow target:\n  " + "\n  ".join(failures), err=True)
        raise SystemExit(1)


commands = [eval_]
