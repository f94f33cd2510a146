"""ggzy credit export|repair: credit records going out (不良行为记录)."""

from __future__ import annotations

from pathlib import Path

import click

from ggzy.commands.clues import _run


@click.group()
def credit() -> None:
    """Credit records (不良行为记录) of case decisions, with scores (seeds/credit_scoring.csv):
    export for the provincial credit system, and credit repairs (信用修复) that withdraw the
    不良行为公示 on the next build."""


@credit.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="CSV file to write.")
@click.option("--by", required=True)
def export(out: Path, by: str) -> None:
    """Write every credit record (format in docs/supervision.md); the export is recorded."""
    from ggzy.supervision.credit import export as _export

    r = _run(_export, out, by)
    click.echo(f"{r['records']} records -> {r['file']} sha256={r['sha256']}")


@credit.command("repair")
@click.argument("record_id")
@click.option("--on", "repaired_on", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--approved-by", required=True, help="Department that granted the repair.")
@click.option("--note")
@click.option("--by", required=True)
def repair(record_id: str, repaired_on, approved_by: str, note: str | None, by: str) -> None:
    """Record a credit repair (信用修复) of RECORD_ID (e.g. DEC-云公管罚〔2026〕1号)."""
    from ggzy.supervision.credit import repair as _repair

    click.echo(f"{_run(_repair, record_id, repaired_on.date(), approved_by, by, note)}: repair recorded; "
               "the notice is withdrawn on the next `ggzy dbt build` / nightly run")


commands = [credit]
