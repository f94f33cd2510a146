"""ggzy roles apply|show and ggzy audit log: warehouse roles and the auditor's trail."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import click

from ggzy import config
from ggzy.cli_types import TIME_ZONE


@click.group()
def roles() -> None:
    """PostgreSQL roles: pipeline, analyst, auditor, superset, public."""


@roles.command("apply")
def apply_cmd() -> None:
    """Create or update the roles, passwords (GGZY_<ROLE>_PASSWORD) and privileges. Idempotent."""
    from ggzy import roles as r

    for line in r.apply():
        click.echo(line)


@roles.command("show")
def show_cmd() -> None:
    """What each role may read (schema USAGE) and whether it can log in."""
    from ggzy import db
    from ggzy import roles as r

    with db.connect() as conn:
        for role in r.ROLES:
            row = conn.execute("select rolcanlogin, rolconfig from pg_roles where rolname = %s", (role.name,)).fetchone()
            if row is None:
                click.echo(f"{role.name}: missing (run `ggzy roles apply`)")
                continue
            readable = [s for s in r.SCHEMAS if conn.execute(
                "select exists (select 1 from pg_namespace where nspname = %s) "
                "and has_schema_privilege(%s, %s, 'USAGE')", (s, role.name, s)).fetchone()[0]]
            click.echo(f"{role.name}: {'LOGIN' if row[0] else 'NOLOGIN'}; schemas {', '.join(readable) or '-'}; "
                       f"settings {', '.join(row[1] or []) or '-'}")


@click.group()
def audit() -> None:
    """The audit trail of the read-only auditor role (the server log)."""


@audit.command("log")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]),
              help="Only statements at or after this time (YYYY-MM-DD[ HH:MM[:SS]]), in --tz.")
@click.option("--tz", "zone", type=TIME_ZONE, default=config.TIMEZONE, show_default=True,
              help="Time zone of --since and of the times printed.")
@click.option("--role", "role_name", default="ggzy_auditor", show_default=True, help="Role whose statements to show.")
def log_cmd(since: dt.datetime | None, zone: zoneinfo.ZoneInfo, role_name: str) -> None:
    """Print every statement the role ran, from the server's structured log (jsonlog).

    One line per statement: time, role@database, client, application, then the statement
    with line breaks and control characters shown as escapes, so nothing in a statement
    can pass for another entry."""
    from ggzy import audit

    start = since.replace(tzinfo=zone) if since else None
    n = 0
    for entry in audit.entries(role_name, start):
        click.echo(entry.line(zone))
        n += 1
    if n == 0:
        click.echo(f"no log entries of {role_name}" + (f" since {start}" if start else ""), err=True)


commands = [roles, audit]
