"""ggzy load: load landing batches into raw (see ggzy.feeds.load)."""

from __future__ import annotations

from datetime import date

import click


@click.command("load")
@click.option("--landing", type=click.Path(file_okay=False, exists=True), default=None,
              help="Landing folder <landing>/<feed>/<YYYY-MM-DD>/ (default: $GGZY_LANDING).")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="One batch date.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First batch date.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last batch date.")
@click.option("--feed", "feeds", multiple=True, help="Feed(s) to load (default: all four).")
@click.option("--skip-unchanged", is_flag=True,
              help="Skip a batch whose manifest and files are exactly those already loaded.")
@click.option("--workers", type=int, default=2, show_default=True,
              help="Batches loaded at the same time, one connection each.")
def load(landing: str | None, day, start, end, feeds: tuple[str, ...], skip_unchanged: bool, workers: int) -> None:
    """Load batches: manifest check, COPY, validation, quarantine, the day's rows replaced.

    Prints one line per batch (loaded / quarantined by rule / refused or held and
    why), the entries of the landing zone that are not batches, and a summary.
    A refused batch does not stop the run. Exit code 0 when every batch of the
    range loaded (or was skipped unchanged) and the landing zone held nothing
    else; 1 when a batch was refused or held, an entry is not a batch, or the
    range holds no batch at all.
    """
    from tqdm import tqdm

    from ggzy import config
    from ggzy.feeds import contract as c
    from ggzy.feeds.load import landing_problems, load_range

    if day and (start or end) or not day and not (start and end):
        raise click.UsageError("give --date D, or --from D --to D")
    first: date = (day or start).date()
    last: date = (day or end).date()
    if last < first:
        raise click.UsageError(f"--to {last} is before --from {first}")
    root = landing or str(config.landing())
    for f in feeds:
        if f not in c.FEEDS:
            raise click.UsageError(f"unknown feed {f}; feeds are {', '.join(c.FEEDS)}")
    chosen = list(feeds) or list(c.FEEDS)
    present = landing_problems(root, chosen)[0]
    total = sum(1 for f in chosen for d in present[f] if first <= d <= last)
    bar = tqdm(total=total, unit="batch", desc="load")
    problems: list = []
    results = load_range(root, first, last, chosen, on_result=lambda _r: bar.update(1),
                         skip_unchanged=skip_unchanged, workers=workers, problems=problems)
    bar.close()
    click.echo(f"{'feed':15} {'date':10} {'status':8} {'delivered':>9} {'loaded':>9} {'quar.':>6}  detail")
    for res in results:
        if res.status in ("refused", "held"):
            click.echo(f"{res.feed:15} {res.batch_date} {res.status.upper():8} {'':>9} {'':>9} {'':>6}  {res.refusal}")
            continue
        if res.status == "skipped":
            click.echo(f"{res.feed:15} {res.batch_date} {'skipped':8} {'':>9} {'':>9} {'':>6}  unchanged since loaded")
            continue
        rules = ", ".join(f"{k}={v}" for k, v in sorted(res.quarantined_by_rule.items()))
        extra = "; extra columns " + "; ".join(
            f"{f}: {', '.join(cols[:8])}{f' (+{len(cols) - 8} more)' if len(cols) > 8 else ''}"
            for f, cols in res.extra_columns.items()) if res.extra_columns else ""
        again = " (replaced earlier delivery)" if res.replaced else ""
        click.echo(f"{res.feed:15} {res.batch_date} {'loaded':8} {res.delivered:>9} {res.loaded:>9} "
                   f"{res.quarantined:>6}  {rules}{extra}{again}")
    for p in problems:
        click.echo(f"{p.feed:15} {'':10} {'NOT A BATCH':8}  {p.problem} (recorded in ops.landing_problems)")
    if not results:  # asked to load and found nothing: not a success
        click.echo(f"no batches in {root} between {first} and {last}")
    counts = {s: sum(1 for res in results if res.status == s) for s in ("loaded", "skipped", "refused", "held")}
    delivered = sum(res.delivered for res in results)
    quarantined = sum(res.quarantined for res in results)
    click.echo(f"summary: {len(results)} batches: {counts['loaded']} loaded, {counts['skipped']} skipped unchanged, "
               f"{counts['refused']} refused, {counts['held']} held; {delivered:,} rows delivered, "
               f"{quarantined:,} quarantined; {len(problems)} landing entries that are not batches")
    raise SystemExit(1 if counts["refused"] or counts["held"] or problems or not results else 0)


commands = [load]
