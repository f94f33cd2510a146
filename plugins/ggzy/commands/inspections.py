"""ggzy inspections: special inspections (专项检查) — campaigns, targets, findings."""

from __future__ import annotations

from pathlib import Path

import click

from ggzy.commands.clues import _run

_DATE = click.DateTime(["%Y-%m-%d"])


@click.group()
def inspections() -> None:
    """Special inspections (专项检查): a campaign has a scope, departments, a period,
    targets and findings; a finding that is a problem becomes a clue (`ggzy clues`),
    verified jointly by the campaign's departments."""


@inspections.command("create")
@click.argument("inspection_id")
@click.option("--title", required=True)
@click.option("--scope", required=True, help="What is inspected (范围).")
@click.option("--lead", "lead_department", required=True, help="Lead department code.")
@click.option("--department", "departments", multiple=True, help="Other departments taking part (repeat).")
@click.option("--from", "period_start", type=_DATE, required=True)
@click.option("--to", "period_end", type=_DATE, required=True)
@click.option("--by", required=True)
def create(inspection_id, title, scope, lead_department, departments, period_start, period_end, by) -> None:
    """Create a campaign."""
    from ggzy.supervision.inspections import create as _create

    click.echo(_run(_create, inspection_id, title, scope, lead_department, list(departments),
                    period_start.date(), period_end.date(), by))


@inspections.command("target")
@click.argument("inspection_id")
@click.argument("target_type", type=click.Choice(["tender", "entity", "expert", "project"]))
@click.argument("target_id")
@click.option("--by", required=True)
def target(inspection_id, target_type, target_id, by) -> None:
    """Add a target to a campaign."""
    from ggzy.supervision.inspections import add_target

    added = _run(add_target, inspection_id, target_type, target_id, by)
    click.echo(f"{inspection_id}: {target_type} {target_id} {'added' if added else 'was a target already'}")


@inspections.command("finding")
@click.argument("inspection_id")
@click.argument("target_type", type=click.Choice(["tender", "entity", "expert", "project"]))
@click.argument("target_id")
@click.option("--on", "found_on", type=_DATE, required=True, help="Date of the finding (within the period).")
@click.option("--text", "finding", required=True)
@click.option("--problem/--no-problem", "is_problem", default=True, show_default=True,
              help="A problem becomes a clue.")
@click.option("--legal-basis")
@click.option("--by", required=True)
def finding_(inspection_id, target_type, target_id, found_on, finding, is_problem, legal_basis, by) -> None:
    """Record a finding on a target."""
    from ggzy.supervision.inspections import record_finding

    fid = _run(record_finding, inspection_id, target_type, target_id, found_on.date(), finding, is_problem, by,
               legal_basis)
    click.echo(f"finding {fid} recorded")


@inspections.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", required=True)
def import_(path: Path, by: str) -> None:
    """Campaigns, targets and findings from a CSV (format in docs/supervision.md); idempotent."""
    from ggzy.supervision.inspections import import_csv

    res = _run(import_csv, path, by)
    click.echo(" ".join(f"{k}={v}" for k, v in res.items()))


@inspections.command("list")
def list_() -> None:
    """Campaigns with their numbers of targets, findings and problems."""
    from ggzy.supervision.inspections import summary

    rows = summary()
    if not rows:
        click.echo("no special inspections")
    for r in rows:
        click.echo(f"{r['inspection_id']:<14} {r['period_start']} .. {r['period_end']}  {r['lead_department']:<16} "
                   f"targets={r['targets']} findings={r['findings']} problems={r['problems']}  {r['title']}")


commands = [inspections]
