"""ggzy watch add|remove|list|history: the office's watch list (跟踪模式), audited."""

from __future__ import annotations

import click

from ggzy.commands.clues import _run


@click.group()
def watch() -> None:
    """Tracking mode (跟踪模式): key projects, entities and experts the office watches.

    A watched party or project in a lot announced on or after its start date raises an
    alert (rules wt_* in seeds/tracking_rules.csv) on the next run; lots evaluated and
    awarded separately (评定分离) are under key supervision without being listed.
    Every add and remove is recorded with who and why (`ggzy watch history`).
    """


@watch.command("add")
@click.argument("party_type", type=click.Choice(["project", "entity", "expert"]))
@click.argument("party_id")
@click.option("--reason", required=True, help="Why the party is watched.")
@click.option("--from", "watch_from", type=click.DateTime(["%Y-%m-%d"]),
              help="Lots announced on or after this date raise alerts (default today).")
@click.option("--by", required=True)
def add(party_type: str, party_id: str, reason: str, watch_from, by: str) -> None:
    """Watch a project (project code), an entity (USCC) or an expert (expert id)."""
    from ggzy.supervision.watch import add as _add

    r = _run(_add, party_type, party_id, reason, by, watch_from.date() if watch_from else None)
    click.echo(f"watching {r['party_type']} {r['party_id']} from {r['watch_from']}")


@watch.command("remove")
@click.argument("party_type", type=click.Choice(["project", "entity", "expert"]))
@click.argument("party_id")
@click.option("--note", help="Why the watch ends.")
@click.option("--by", required=True)
def remove(party_type: str, party_id: str, note: str | None, by: str) -> None:
    """Stop watching a party (its row stays, inactive; the removal is audited)."""
    from ggzy.supervision.watch import remove as _remove

    _run(_remove, party_type, party_id, by, note)
    click.echo(f"no longer watching {party_type} {party_id}")


@watch.command("list")
@click.option("--all", "include_removed", is_flag=True, help="Include removed parties.")
def list_(include_removed: bool) -> None:
    """The watch list."""
    from ggzy.supervision.watch import listed

    rows = listed(include_removed)
    if not rows:
        click.echo("the watch list is empty")
    for r in rows:
        state = "" if r["is_active"] else f"  (removed {r['removed_at']:%Y-%m-%d} by {r['removed_by']})"
        click.echo(f"{r['party_type']:<8} {r['party_id']:<22} from {r['watch_from']}  added by {r['added_by']}: "
                   f"{r['reason']}{state}")


@watch.command("history")
def history_() -> None:
    """Audit trail: every add and remove, who and when."""
    from ggzy.supervision.watch import history

    for r in history():
        click.echo(f"{r['at']:%Y-%m-%d %H:%M:%S}  {r['event']:<6} {r['party_type']:<8} {r['party_id']:<22} "
                   f"{r['actor']:<10} {r['note'] or ''}")


commands = [watch]
