"""ggzy report: the joint meeting's report (大数据分析报告) as a Chinese PDF."""

from __future__ import annotations

import datetime as dt

import click


def _period(ctx, param, value: str):
    from ggzy.report.period import PeriodError, parse

    try:
        return parse(value)
    except PeriodError as exc:
        raise click.BadParameter(str(exc)) from exc


def _instant(ctx, param, value: str | None):
    if value is None:
        return None
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: expected an ISO date-time, e.g. 2026-12-01T09:00:00+08:00") from exc
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))  # Beijing time when unsaid


@click.command()
@click.option("--period", required=True, callback=_period,
              help="2026-11 (month), 2026-Q4 (quarter), 2026-H2 (half-year) or 2026 (year).")
@click.option("--by", "issued_by", default="ggzy report", show_default=True, help="Who issues it (on the cover).")
@click.option("--issued-at", callback=_instant, default=None,
              help="Issue time on the cover (ISO; default now). The same period, data and issue time give the "
                   "same bytes.")
def report(period, issued_by: str, issued_at) -> None:
    """Write the report of PERIOD as a PDF in Chinese, archive it under $GGZY_HOME/reports/
    and record its inputs and sha256 in ops.reports. Prints the file, its sha256 and pages."""
    import psycopg

    from ggzy.report import issue
    from ggzy.report.charts import FontMissing

    try:
        r = issue(period, issued_by=issued_by, issued_at=issued_at)
    except FontMissing as exc:
        raise click.ClickException(str(exc)) from exc
    except psycopg.errors.UndefinedTable as exc:
        raise click.ClickException(f"{str(exc).splitlines()[0]}: build the marts first (`ggzy dbt build`; "
                                   "`ggzy warehouse start` creates ops.reports)") from exc
    click.echo(f"{r.period.key} {r.period.name_zh}: {r.path}")
    click.echo(f"  report {r.report_id}, {r.pages} pages, {r.bytes:,} bytes, sha256 {r.sha256}")
    click.echo(f"  content sha256 {r.content_sha256} ({r.seconds:.1f} s)")


commands = [report]
