"""ggzy clues: the problem-clue register (问题线索) from the command line."""

from __future__ import annotations

import datetime as dt

import click

TARGETS = ["discipline_inspection", "police", "procuratorate", "court"]


def _run(fn, *args, **kwargs):
    from ggzy.supervision import SupervisionError

    try:
        return fn(*args, **kwargs)
    except SupervisionError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def clues() -> None:
    """Problem clues (问题线索): from alerts, upheld complaints, 双随机 and special inspections.

    Lifecycle: registered -> verifying (needs a lead department) -> confirmed | unfounded;
    confirmed -> transferred (移送) | decided (处理决定); transferred -> decided | concluded
    (every receiving body's outcome first); decided -> concluded; unfounded -> verifying.
    """


@clues.command("register")
def register() -> None:
    """Register clues from every source not yet registered (what the nightly run does)."""
    from ggzy.supervision.clues import register_clues

    res = _run(register_clues)
    click.echo(" ".join(f"{k}={v}" for k, v in res.items()))


@clues.command("open")
@click.option("--alert", "alert_id", required=True, help="Alert id (a unique prefix is enough).")
@click.option("--by", required=True, help="Who escalates it.")
def open_(alert_id: str, by: str) -> None:
    """Escalate an alert to a clue before its department has verified it."""
    from ggzy.supervision.clues import open_from_alert

    click.echo(_run(open_from_alert, alert_id, by))


@clues.command("list")
@click.option("--status", type=click.Choice(["registered", "verifying", "confirmed", "unfounded", "transferred",
                                             "decided", "concluded"]))
@click.option("--source", type=click.Choice(["alert", "complaint", "sampling", "special_inspection"]))
@click.option("--limit", type=int, default=50, show_default=True)
def list_(status: str | None, source: str | None, limit: int) -> None:
    """List clues, newest first (departments: * = lead)."""
    from ggzy.supervision.clues import list_clues

    rows = list_clues(status, source, limit)
    if not rows:
        click.echo("no clues")
    for r in rows:
        click.echo(f"{r['clue_id']}  {r['registered_at']:%Y-%m-%d %H:%M}  {r['source_type']:<18} {r['status']:<11} "
                   f"{r['departments'] or '-':<34} {r['title']}")


@clues.command("show")
@click.argument("clue_id")
def show(clue_id: str) -> None:
    """Everything about one clue: source, departments and findings, transfers, decisions, history."""
    from ggzy.supervision.clues import show as _show

    d = _run(_show, clue_id)
    c = d["clue"]
    click.echo(f"{c['clue_id']}  {c['status']}  {c['title']}")
    click.echo(f"  source      {c['source_type']} {c['source_id']}   legal basis: {c['legal_basis'] or '-'}")
    for x in d["departments"]:
        found = f"  finding {x['finding_at']:%Y-%m-%d %H:%M} by {x['finding_by']}: {x['finding']}" if x["finding"] else ""
        click.echo(f"  department  {x['role']:<5} {x['department_code']:<18} assigned by {x['assigned_by']}{found}")
    for t in d["transfers"]:
        receipt = (f" | receipt {t['receipt_at']:%Y-%m-%d %H:%M} signed by {t['receipt_by']} {t['receipt_no'] or ''}"
                   if t["receipt_at"] else " | no receipt yet")
        outcome = f" | outcome {t['outcome_at']:%Y-%m-%d %H:%M} ({t['outcome_by']}): {t['outcome']}" if t["outcome_at"] else ""
        click.echo(f"  transfer    {t['target']} {t['reference_no'] or ''} {t['transferred_at']:%Y-%m-%d %H:%M} "
                   f"by {t['transferred_by']}{receipt}{outcome}")
    for x in d["decisions"]:
        click.echo(f"  decision    {x['decision_id']} {x['subject_type']} {x['subject_id']} {x['violation']}: "
                   f"{x['penalty']} ({x['decided_by']}, {x['decided_at']:%Y-%m-%d})")
    for e in d["events"]:
        move = f"{e['from_status'] or ''} -> {e['to_status']}" if e["event"] == "status" else ""
        click.echo(f"  {e['at']:%Y-%m-%d %H:%M:%S}  {e['event']:<10} {move:<26} {e['actor']:<10} {e['note'] or ''}")


@clues.command("assign")
@click.argument("clue_id")
@click.option("--department", required=True, help="Department code, e.g. 530100-HOUSING.")
@click.option("--role", type=click.Choice(["lead", "joint"]), default="joint", show_default=True)
@click.option("--by", required=True)
def assign(clue_id: str, department: str, role: str, by: str) -> None:
    """Add a department to the verification (joint = 联合核查; lead replaces the lead)."""
    from ggzy.supervision.clues import assign as _assign

    click.echo(f"{_run(_assign, clue_id, department, by, role)}: {role} {department}")


@clues.command("set")
@click.argument("clue_id")
@click.argument("status", type=click.Choice(["verifying", "confirmed", "unfounded", "concluded"]))
@click.option("--by", required=True)
@click.option("--note")
def set_(clue_id: str, status: str, by: str, note: str | None) -> None:
    """Move a clue along its lifecycle (transfers and decisions have their own commands)."""
    from ggzy.supervision.clues import set_status

    r = _run(set_status, clue_id, status, by, note)
    click.echo(f"{r['clue_id']}: {r['from']} -> {r['to']} by {by}")


@clues.command("finding")
@click.argument("clue_id")
@click.option("--department", required=True)
@click.option("--text", "finding", required=True, help="What the department found.")
@click.option("--by", required=True)
def finding_(clue_id: str, department: str, finding: str, by: str) -> None:
    """Record one verifying department's finding."""
    from ggzy.supervision.clues import record_finding

    click.echo(_run(record_finding, clue_id, department, finding, by))


@clues.command("transfer")
@click.argument("clue_id")
@click.option("--to", "target", type=click.Choice(TARGETS), required=True)
@click.option("--ref", "reference_no", help="Transfer letter number (移送函文号).")
@click.option("--by", required=True)
def transfer(clue_id: str, target: str, reference_no: str | None, by: str) -> None:
    """Transfer (移送) a confirmed clue to 纪检监察, 公安, 检察 or 法院."""
    from ggzy.supervision.clues import transfer as _transfer

    click.echo(f"{_run(_transfer, clue_id, target, by, reference_no)}: transferred to {target}")


_AT = click.option("--at", "at", type=click.DateTime(["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"]),
                   help="When it happened there (local time), if not now.")


def _local(at: dt.datetime | None) -> dt.datetime | None:
    import zoneinfo

    from ggzy import config

    return at.replace(tzinfo=zoneinfo.ZoneInfo(config.TIMEZONE)) if at else None


@clues.command("receipt")
@click.argument("clue_id")
@click.option("--to", "target", type=click.Choice(TARGETS), required=True)
@click.option("--signed-by", required=True, help="Who signed the receipt at the receiving body.")
@click.option("--no", "receipt_no", help="Receipt number (回执编号).")
@_AT
@click.option("--by", required=True, help="Who records it.")
def receipt(clue_id: str, target: str, signed_by: str, receipt_no: str | None, at, by: str) -> None:
    """Record the receiving body's receipt (回执) of a transfer."""
    from ggzy.supervision.clues import record_receipt

    click.echo(_run(record_receipt, clue_id, target, signed_by, by, receipt_no, _local(at)))


@clues.command("outcome")
@click.argument("clue_id")
@click.option("--to", "target", type=click.Choice(TARGETS), required=True)
@click.option("--text", "outcome", required=True, help="The outcome, e.g. 立案侦查.")
@click.option("--reported-by", required=True, help="Who reported it at the receiving body.")
@_AT
@click.option("--by", required=True, help="Who records it.")
def outcome_(clue_id: str, target: str, outcome: str, reported_by: str, at, by: str) -> None:
    """Record the receiving body's outcome (办理结果) of a transfer."""
    from ggzy.supervision.clues import record_outcome

    click.echo(_run(record_outcome, clue_id, target, outcome, reported_by, by, _local(at)))


@clues.command("decide")
@click.argument("clue_id")
@click.option("--decision", "decision_id", required=True, help="Decision document number (处理决定文号).")
@click.option("--subject-type", type=click.Choice(["bidder", "expert", "agency", "tenderer"]), required=True)
@click.option("--subject", "subject_id", required=True, help="USCC of the party, or the expert id.")
@click.option("--violation", type=click.Choice(["collusion", "fraud", "bribery", "expert_misconduct", "other"]),
              required=True)
@click.option("--penalty", required=True)
@click.option("--department", required=True, help="Deciding department code.")
@_AT
@click.option("--by", required=True)
def decide(clue_id: str, decision_id: str, subject_type: str, subject_id: str, violation: str, penalty: str,
           department: str, at, by: str) -> None:
    """Record the case decision (处理决定) on a clue: it becomes a credit record with a score."""
    from ggzy.supervision.clues import decide as _decide

    click.echo(_run(_decide, clue_id, decision_id, subject_type, subject_id, violation, penalty, department, by,
                    _local(at)))


commands = [clues]
