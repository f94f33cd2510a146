"""ggzy publish: export the disclosure tables of a batch date for the website."""

from __future__ import annotations

import click


@click.command()
@click.option("--date", "batch_date", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Batch date to publish (its quality gate must have passed).")
@click.option("--force", is_flag=True,
              help="Write and scan every file again, changed or not (replaces the date's folder).")
@click.option("--export-dir", type=click.Path(file_okay=False), default=None,
              help="Root folder of the exports (default $GGZY_EXPORT_DIR, else $GGZY_HOME/exports).")
def publish(batch_date, force: bool, export_dir: str | None) -> None:
    """Export every table of schema disclosure to CSV and XLSX (Chinese headers) under
    <export-dir>/<date>/ (one file per month for tables that grow with time), after checking
    the day's quality gate. Only files whose content changed since the last publication are
    written and scanned for personal data; the others are kept as they were (same bytes and
    sha256), as manifest.json says. A refusal is recorded in ops.publications and exits 1;
    the previous publication stays in place."""
    from pathlib import Path

    from ggzy import disclosure

    pub = disclosure.publish(batch_date.date(), force=force, export_root=Path(export_dir) if export_dir else None)
    if pub.published:
        click.echo(f"{pub.batch_date}: {pub.reason}" + (f" -> {pub.export_dir}" if pub.export_dir else ""))
        for f in pub.files:  # the files written; the kept ones are listed in manifest.json
            if not f.get("unchanged"):
                click.echo(f"  {f['name']}  rows={f['rows']}  sha256={f['sha256'][:16]}…")
        return
    click.echo(f"{pub.batch_date}: NOT published: {pub.reason}", err=True)
    raise SystemExit(1)


commands = [publish]
