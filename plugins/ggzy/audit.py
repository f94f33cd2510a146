"""The audit trail of a role (全过程留痕): its statements, read from the server's
structured log.

PostgreSQL has no trigger on SELECT, so the server log is the record: `roles apply`
sets `log_statement = 'all'` for the auditor role (a superuser setting the role cannot
undo). The log is read as jsonlog, one JSON object per entry, not as the text log:
in the text log a statement containing a carriage return or newline continues on lines
that look like new entries, and a statement could forge one (`select 1 /*\r2026-... user=
someone_else ...*/ select <ID numbers> ...` showed as `select 1 /*`). In JSON the
statement is one string whatever it holds. Printed entries escape every control
character, so an entry cannot pass for two.

Times: the server logs in UTC (`log_timezone`, set by the embedded server; on another
server the JSON timestamp carries its zone name); `--since` is read in a zone given by
the user, default Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

from ggzy import config, db

# Server settings the trail needs (the embedded server applies them at every start).
LOCAL_ZONE = zoneinfo.ZoneInfo(config.TIMEZONE)
LOG_SETTINGS = {
    "log_destination": "stderr,jsonlog",
    "log_timezone": "UTC",
}


@dataclass(frozen=True)
class Entry:
    at: dt.datetime  # aware
    user: str
    database: str
    pid: int | None
    client: str
    application: str
    severity: str
    message: str
    detail: str = ""
    statement: str = ""  # the statement an ERROR was raised by

    def line(self, zone: dt.tzinfo = LOCAL_ZONE) -> str:
        """One line, whatever the statement holds."""
        text = self.message
        if self.statement and self.statement not in text:
            text += f" | statement: {self.statement}"
        if self.detail:
            text += f" | {self.detail}"
        at = self.at.astimezone(zone)
        return (f"{at:%Y-%m-%d %H:%M:%S.%f}"[:-3] + f"{at:%z} {escape(self.user)}@{escape(self.database)} "
                f"pid={self.pid} client={escape(self.client) or '-'} app={escape(self.application) or '-'} "
                f"{self.severity}: {escape(text)}")


def escape(text: str) -> str:
    """Control and format characters (CR, LF, tab, bidi overrides, line separators) as
    visible escapes; Chinese and other printable text unchanged."""
    out = []
    for ch in text.replace("\\", "\\\\"):
        if ch in "\r\n\t":
            out.append({"\r": "\\r", "\n": "\\n", "\t": "\\t"}[ch])
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def _timestamp(text: str) -> dt.datetime:
    """jsonlog's "2026-12-06 07:30:00.123 UTC" (the zone is log_timezone's abbreviation)."""
    stamp, _, zone = text.rpartition(" ")
    at = dt.datetime.fromisoformat(stamp)
    if zone in ("UTC", "GMT", "Z"):
        return at.replace(tzinfo=dt.UTC)
    try:
        return at.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # An abbreviation such as CST is ambiguous: the offset cannot be known. Use the
        # server's log_timezone = 'UTC' (LOG_SETTINGS) to avoid this.
        raise ValueError(f"log timestamp {text!r}: set log_timezone = 'UTC' on the server") from None


def _json_lines(url: str | None) -> Iterator[str]:
    """Lines of the server's jsonlog files, oldest first: from the embedded server's data
    directory, else through pg_ls_logdir()/pg_read_file() (superuser or
    pg_read_server_files)."""
    if config.is_embedded() and url is None:
        logdir = config.pgdata() / "log"
        for f in sorted(logdir.glob("*.json"), key=lambda p: (p.stat().st_mtime, p.name)) if logdir.exists() else []:
            with open(f, encoding="utf-8", errors="replace", newline="\n") as fh:
                yield from fh
        return
    with db.connect(url) as conn:
        names = [r[0] for r in conn.execute(
            "select name from pg_ls_logdir() where name like '%%.json' order by modification, name")]
        logdir = conn.execute("select current_setting('log_directory')").fetchone()[0]
        for name in names:
            text = conn.execute("select pg_read_file(%s)", (f"{logdir}/{name}",)).fetchone()[0]
            yield from text.split("\n")


def entries(role_name: str = "ggzy_auditor", since: dt.datetime | None = None,
            url: str | None = None) -> Iterator[Entry]:
    """Every log entry of sessions of `role_name` (statements, errors), at or after `since`
    (an aware datetime; a naive one is read in Asia/Shanghai)."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=LOCAL_ZONE)
    for raw in _json_lines(url):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except ValueError:
            continue  # a line cut by a crash mid-write: nothing a statement can cause
        if rec.get("user") != role_name:
            continue
        at = _timestamp(rec["timestamp"])
        if since is not None and at < since:
            continue
        client = rec.get("remote_host", "")
        if rec.get("remote_port"):
            client = f"{client}:{rec['remote_port']}"
        yield Entry(at, rec.get("user", ""), rec.get("dbname", ""), rec.get("pid"), client,
                    rec.get("application_name", ""), rec.get("error_severity", ""), rec.get("message", ""),
                    rec.get("detail", ""), rec.get("statement", ""))
