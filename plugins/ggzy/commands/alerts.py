"""ggzy alerts list|set|history|sync: the alert lifecycle from the command line."""

from __future__ import annotations

import click


@click.group()
def alerts() -> None:
    """Risk-signal alerts (风险预警): list them, move them along their lifecycle.

    Lifecycle: new -> acknowledged -> verified | dismissed; verified -> transferred
    (--to discipline_inspection | police | procuratorate | court); dismissed -> acknowledged
    reopens. New alerts at or above GGZY_NOTIFY_MIN_SEVERITY are sent to their department
    once (`ggzy alerts notify`); clues, transfers with receipts: `ggzy clues`.
    """


@alerts.command("list")
@click.option("--status", type=click.Choice(["new", "acknowledged", "verified", "dismissed", "transferred"]))
@click.option("--rule", help="Only this rule id (e.g. a40_same_mac).")
@click.option("--department", help="Only this responsible department code (e.g. 530100-HOUSING).")
@click.option("--all", "include_inactive", is_flag=True, help="Include alerts whose signal is gone.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
def list_(status: str | None, rule: str | None, department: str | None, include_inactive: bool,
          limit: int) -> None:
    """List alerts, most severe and newest first."""
    from ggzy.alerts import list_alerts

    rows = list_alerts(status, rule, department, active_only=not include_inactive, limit=limit)
    if not rows:
        click.echo("no alerts")
        return
    click.echo(f"{'alert_id':<12} {'rule_id':<28} {'sev':<6} {'status':<12} {'subject':<32} "
               f"{'department':<18} {'date':<10}")
    for r in rows:
        subject = f"{r['subject_type']}:{r['subject_id']}"
        flag = "" if r["is_active"] else " (cleared)"
        click.echo(f"{r['alert_id'][:12]:<12} {r['rule_id']:<28} {r['severity']:<6} {r['status']:<12} "
                   f"{subject:<32} {r['department_code'] or '-':<18} {str(r['signal_date'] or '-'):<10}{flag}")


@alerts.command("set")
@click.argument("alert_id")
@click.argument("status")
@click.option("--by", "by", required=True, help="Who records the change (name).")
@click.option("--note", default=None, help="Why: the outcome, the file number, ...")
@click.option("--to", "transferred_to", type=click.Choice(["discipline_inspection", "police", "procuratorate", "court"]),
              default=None,
              help="Target of a transfer (with STATUS = transferred).")
def set_(alert_id: str, status: str, by: str, note: str | None, transferred_to: str | None) -> None:
    """Change the STATUS of ALERT_ID (a unique prefix is enough); the change is validated
    against the lifecycle and recorded in ops.alert_events."""
    from ggzy.alerts import AlertError, set_status

    try:
        res = set_status(alert_id, status, by, note, transferred_to)
    except AlertError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{res['alert_id']}: {res['from']} -> {res['to']} by {res['by']}")


@alerts.command("history")
@click.argument("alert_id")
def history_(alert_id: str) -> None:
    """Show the history of one alert (raised, updated, status changes)."""
    from ggzy.alerts import AlertError, history

    try:
        rows = history(alert_id)
    except AlertError as exc:
        raise click.ClickException(str(exc)) from exc
    for r in rows:
        move = f"{r['from_status'] or ''} -> {r['to_status'] or ''}" if r["event"] == "status" else ""
        click.echo(f"{r['at']:%Y-%m-%d %H:%M:%S}  {r['event']:<11} {move:<28} {r['actor']:<16} {r['note'] or ''}")


@alerts.command("sync")
@click.option("--run-id", default="manual", show_default=True, help="Recorded on raised/updated alerts.")
def sync(run_id: str) -> None:
    """Upsert marts.fct_risk_signals into ops.alerts (what the nightly run does after dbt)."""
    from ggzy import config
    from ggzy.alerts import sync_alerts

    res = sync_alerts(config.warehouse_url(), run_id)
    click.echo(" ".join(f"{k}={v}" for k, v in res.items()))


@alerts.command("notify")
@click.option("--run-id", default="manual", show_default=True, help="Recorded with each notification.")
def notify_(run_id: str) -> None:
    """Send new alerts at or above GGZY_NOTIFY_MIN_SEVERITY (default high) to their departments
    through AIRFLOW_CONN_GGZY_NOTIFY, each once (ops.alert_notifications); what the nightly run
    does after the sync. Exit 1 if a delivery failed (it is retried on the next run)."""
    from ggzy import config
    from ggzy.supervision.notify import notify_alerts

    try:
        res = notify_alerts(config.warehouse_url(), run_id)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if res["skipped"]:
        click.echo("no notification connection: set AIRFLOW_CONN_GGZY_NOTIFY (https://... or smtp://...?to=...)")
        return
    click.echo(f"sent={res['sent']} failed={res['failed']} (severity >= {res['min_severity']})")
    if res["failed"]:
        raise SystemExit(1)


@alerts.command("notifications")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
def notifications_(limit: int) -> None:
    """List the notifications sent (newest first): alert, department, channel, delivered, when."""
    from ggzy import db

    with db.connect() as conn:
        rows = conn.execute(
            """select alert_id, department_code, severity, channel, recipient, delivered, attempts,
                      coalesce(sent_at, first_tried_at), error
               from ops.alert_notifications order by coalesce(sent_at, first_tried_at) desc limit %s""",
            (limit,)).fetchall()
    if not rows:
        click.echo("no notifications")
    for a, d, sev, ch, rcp, ok, n, at, err in rows:
        click.echo(f"{at:%Y-%m-%d %H:%M:%S}  {a[:12]}  {d or '-':<16} {sev:<6} {ch:<7} {rcp:<32} "
                   f"{'delivered' if ok else 'FAILED x' + str(n)} {err or ''}")


commands = [alerts]
