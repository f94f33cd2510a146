"""ggzy eval: how well the risk rules find what they should.

`ggzy eval` (bare): precision/recall of every rule against the demo generator's ground truth.
`ggzy eval real FILE...`: the risk ranking on real labelled cartel data (ggzy.realdata).
"""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group("eval", invoke_without_command=True)
@click.option("--landing", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Landing folder holding _ground_truth/anomalies.csv (default: GGZY_LANDING).")
@click.option("--min-recall", type=float, default=None,
              help="Fail (exit 1) when a deterministic rule's recall is below this.")
@click.option("--min-precision", type=float, default=None,
              help="Fail (exit 1) when a deterministic rule's precision is below this.")
@click.option("--min-auc", type=float, default=None,
              help="Fail (exit 1) when a screen's AUC (planted vs clean lots) is below this.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON instead of a table.")
@click.pass_context
def eval_(ctx: click.Context, landing: Path | None, min_recall: float | None, min_precision: float | None,
          min_auc: float | None, as_json: bool) -> None:
    """Score every risk rule of marts.fct_risk_signals against the demo ground truth.

    Prints per-rule precision and recall, overall figures, and the AUC with which the
    statistical screens rank the planted ring lots above clean lots.
    `ggzy eval real FILE...` measures the ranking on real labelled data instead.
    """
    if ctx.invoked_subcommand is not None:
        return
    from ggzy import config
    from ggzy.evaluation import evaluate, render

    ev = evaluate(landing or config.landing())
    click.echo(json.dumps(ev.as_dict(), indent=2, ensure_ascii=False) if as_json else render(ev))
    failures = ev.failures(min_recall, min_precision, min_auc)
    if failures:
        click.echo("\nBelow target:\n  " + "\n  ".join(failures), err=True)
        raise SystemExit(1)


@eval_.command("real")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--draws", type=click.IntRange(min=100), default=1000, show_default=True,
              help="Bootstrap draws (lots resampled) for the 95% intervals.")
@click.option("--seed", type=int, default=20221101, show_default=True, help="Seed of the bootstrap.")
@click.option("--batch-days", type=click.IntRange(min=1, max=366), default=None,
              help="Days between the converted batches (default: 28, 14 or 7, the longest whose "
                   "batches pass the GX gate's row band).")
@click.option("--keep", is_flag=True, help="Keep the scratch databases ggzy_eval_<name> and the work folder.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the converted landing zones and dbt logs go (default: $GGZY_HOME/eval-real).")
@click.option("--min-auc-vs-cv", type=float, default=None,
              help="Fail (exit 1) when risk_score's AUC minus -CV's AUC (the better of population and "
                   "sample sd) is below this on any data set (0 = rank at least as well as the single screen).")
@click.option("--min-mean-auc", type=float, default=None,
              help="Fail (exit 1) when the mean risk_score AUC over the data sets is below this.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON instead of a table.")
@click.option("--json-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the result as JSON to this file.")
def real(files: tuple[Path, ...], draws: int, seed: int, batch_days: int | None, keep: bool, workdir: Path | None,
         min_auc_vs_cv: float | None, min_mean_auc: float | None, as_json: bool, json_out: Path | None) -> None:
    """Measure the risk ranking on real labelled bid-rigging data.

    Each FILE is a bid table in the layout of ../shared/realdata/cartels/ (Tender, Bid_value,
    Winner, Collusive_competitor; optional Date, Competitors). It is converted into feed
    batches, run through load -> GX gate -> dbt build into a scratch database
    ggzy_eval_<name> on the warehouse's server (dropped afterwards unless --keep), and every
    stored score is judged by its AUC of collusive against competitive lots, with -CV of the
    lot's bids as the baseline; every tender rule's firing rate is shown per class.
    """
    import shutil

    from ggzy import config
    from ggzy.realdata.convert import InputError, convert, slug
    from ggzy.realdata.report import evaluate_market, render
    from ggzy.realdata.run import PipelineError, keep_or_drop, run_pipeline

    names = [slug(f) for f in files]
    if len(set(names)) != len(names):
        raise click.UsageError(f"two files give the same data-set name: {', '.join(names)}")
    root = workdir or config.home() / "eval-real"
    server = config.warehouse_url()

    def log(msg: str) -> None:
        click.echo(msg, err=True)

    # every file converted first: a bad row in the last file stops the command before any
    # pipeline has run, and needs no warehouse to be reported
    conversions = []
    for path, name in zip(files, names, strict=True):
        folder = root / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        try:
            conv = convert(path, folder / "landing", name, every_days=batch_days)
        except InputError as e:
            for done in [*conversions, None]:
                shutil.rmtree(folder if done is None else done.landing.parent, ignore_errors=True)
            raise click.ClickException(str(e)) from e
        log(f"{name}: converted {len(conv.lots)} lots into {len(conv.batch_dates)} batch dates")
        conversions.append(conv)
    results = []
    for conv in conversions:
        folder = conv.landing.parent
        try:
            run = run_pipeline(conv, server, folder, log=log)
            result = evaluate_market(conv, run.url, draws=draws, seed=seed)
        except PipelineError as e:  # the work folder stays: the message points at its dbt log
            raise click.ClickException(str(e)) from e
        finally:
            keep_or_drop(server, conv.name, keep)
        result.pipeline = {"database": run.database + (" (kept)" if keep else " (dropped)"),
                           "rows loaded": run.rows_loaded, "quarantined": run.rows_quarantined,
                           "gate failed": len(run.gate_failed),
                           **{f"{k} s": round(v, 1) for k, v in run.seconds.items()}}
        results.append(result)
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    doc = json.dumps([r.as_dict() for r in results], indent=2, ensure_ascii=False)
    if json_out:
        json_out.write_text(doc + "\n", encoding="utf-8")
    click.echo(doc if as_json else render(results, draws))
    failures = []
    for r in results:
        worst = r.worst_difference
        if min_auc_vs_cv is not None and (worst is None or worst < min_auc_vs_cv):
            failures.append(f"{r.name}: risk_score AUC - the better -cv AUC = "
                            f"{'n/a' if worst is None else f'{worst:+.3f}'} < {min_auc_vs_cv}")
    aucs = [r.risk_score.auc for r in results if r.risk_score.auc is not None]
    if min_mean_auc is not None and (not aucs or sum(aucs) / len(aucs) < min_mean_auc):
        failures.append(f"mean risk_score AUC {sum(aucs) / len(aucs) if aucs else float('nan'):.3f} < {min_mean_auc}")
    if failures:
        click.echo("\nBelow target:\n  " + "\n  ".join(failures), err=True)
        raise SystemExit(1)


commands = [eval_]
