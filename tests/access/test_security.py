"""The probe's attempts, repeated: other databases, pseudonyms, the audit trail, the
embedded server's door. Each test connects as a real role to a real server."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
import time
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from click.testing import CliRunner
from envs import environ

from .conftest import PEOPLE, WINNER, role_url

ROLE_NAMES = ("ggzy_pipeline", "ggzy_analyst", "ggzy_auditor", "ggzy_superset", "ggzy_public")
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def _home(access_warehouse) -> Path:
    return access_warehouse[1].parent


def _in_home(access_warehouse):
    """The environment of the access warehouse (its GGZY_HOME and port) for a block."""
    url, _ = access_warehouse
    return environ({"GGZY_HOME": str(_home(access_warehouse)), "GGZY_PG_PORT": str(urlsplit(url).port),
                    "GGZY_WAREHOUSE_URL": None})


def _other_db(url: str, role_name: str, database: str) -> str:
    return role_url(url, role_name).rsplit("/", 1)[0] + "/" + database


@pytest.mark.parametrize("database", ["postgres", "airflow", "superset"])
@pytest.mark.parametrize("role_name", ROLE_NAMES)
def test_only_the_pipeline_may_use_the_other_databases(access_warehouse, role_name, database):
    url, _ = access_warehouse
    if role_name == "ggzy_pipeline":
        with psycopg.connect(_other_db(url, role_name, database), autocommit=True) as conn:
            conn.execute("create temp table pipeline_scratch (x int)")
        return
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(_other_db(url, role_name, database), connect_timeout=5).close()


@pytest.mark.parametrize("role_name", ["ggzy_auditor", "ggzy_superset", "ggzy_public"])
def test_roles_without_temp_cannot_create_temp_tables_in_the_warehouse(connect_as, role_name):
    with connect_as(role_name) as conn:
        conn.execute("set default_transaction_read_only = off")  # the auditor's is on: not the barrier tested
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("create temp table probe_scratch (x int)")


# ---------------------------------------------------------------------------------------
# Pseudonyms
# ---------------------------------------------------------------------------------------

def _legal_rep_key(connect_as) -> str:
    with connect_as("ggzy_analyst") as conn:
        (key,) = conn.execute("select legal_rep_key from marts.dim_entity where entity_id = %s", (WINNER,)).fetchone()
    assert key and key.startswith("p_")
    return key


def test_analyst_cannot_confirm_a_guessed_identity(access_warehouse, connect_as):
    """The probe knew 张三丰's region and birth date and hashed candidate ID numbers: with
    the salt's default from git, the right one matched. Now the key is needed."""
    key = _legal_rep_key(connect_as)
    id_no = PEOPLE["legal_rep"][1]
    # the guess made right (the true ID number), hashed the way the old macro did
    old_scheme = "p_" + hashlib.md5(f"ggzy-watch-demo|{id_no}".encode()).hexdigest()[:16]
    assert key != old_scheme
    with connect_as("ggzy_analyst") as conn:
        for probe in ("select ipad from vault.pseudonym_key", "select * from vault.pseudonym_key",
                      "select count(*) from vault.pseudonym_key"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(probe)
        # what the analyst can compute without the key does not match
        unkeyed = conn.execute("select 'p_' || left(encode(sha256(convert_to(%s, 'UTF8')), 'hex'), 16)",
                               (id_no,)).fetchone()[0]
        assert key != unkeyed
    # and with the deployment's key it does: the pseudonym is the keyed hash of the ID number
    from ggzy import pseudonym

    with _in_home(access_warehouse):
        assert pseudonym.person_key(id_no, pseudonym.key()) == key


def test_the_key_is_a_secret_of_the_deployment(access_warehouse, tmp_path):
    from ggzy import pseudonym

    home = _home(access_warehouse)
    f = home / "secrets" / "pseudonym.key"
    assert stat.S_IMODE(f.stat().st_mode) == 0o600 and stat.S_IMODE(f.parent.stat().st_mode) == 0o700
    assert len(bytes.fromhex(f.read_text().strip())) == 32
    with environ({"GGZY_HOME": str(tmp_path), pseudonym.KEY_ENV: None}):
        other = pseudonym.key()  # another deployment gets its own
    assert other != f.read_text().strip().encode()
    # the key is never in what dbt writes (compiled SQL, logs)
    target = Path(os.environ.get("DBT_TARGET_PATH") or Path(__file__).resolve().parents[2] / "dbt_project/target")
    secret = f.read_text().strip()
    for path in [p for p in target.rglob("*") if p.is_file() and p.suffix in (".sql", ".json", ".log")][:2000]:
        assert secret not in path.read_text(errors="replace"), path


# ---------------------------------------------------------------------------------------
# The audit trail
# ---------------------------------------------------------------------------------------

FORGED = "2026-01-01 00:00:00.000 CST [1] user=ggzy_pipeline db=ggzy app=psql client=127.0.0.1 LOG:  statement: "
HIDING = [
    # a carriage return, then a forged entry of another role, then the real read
    "select 1 /*\r" + FORGED + "select 1\r*/, legal_rep_id_no, '{m}' from raw.trading_centre__entities",
    "select 1 /*\n" + FORGED + "select 1\n*/, contact_phone, '{m}' from raw.trading_centre__entities",
    "-- just a comment\r\nselect legal_rep_name, '{m}' from raw.trading_centre__entities",
    "select /* \u202e */ legal_rep_id_no, '{m}' from raw.trading_centre__entities -- \u2028 " + FORGED,
]


def _audit_cli(access_warehouse, *args: str):
    from ggzy.cli import main

    with _in_home(access_warehouse):
        return CliRunner().invoke(main, ["audit", "log", *args])


def test_an_auditor_cannot_hide_a_statement_from_the_trail(access_warehouse, connect_as):
    marker = f"hide_{time.time_ns()}"
    since = dt.datetime.now(SHANGHAI).replace(microsecond=0, tzinfo=None) - dt.timedelta(seconds=5)
    with connect_as("ggzy_auditor") as conn:
        for i, stmt in enumerate(HIDING):
            conn.execute(stmt.format(m=f"{marker}_{i}"))
    for _ in range(50):  # the logging collector writes asynchronously
        res = _audit_cli(access_warehouse, "--since", f"{since:%Y-%m-%d %H:%M:%S}")
        if all(f"{marker}_{i}" in res.output for i in range(len(HIDING))):
            break
        time.sleep(0.1)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    for i in range(len(HIDING)):
        hits = [line for line in lines if f"{marker}_{i}" in line]
        assert len(hits) == 1, (i, hits)  # the whole statement, on one line, with the table it read
        assert "ggzy_auditor@ggzy" in hits[0] and "raw.trading_centre__entities" in hits[0]
    assert not any(line.startswith("2026-01-01") for line in lines)  # no forged entry of its own
    assert "\r" not in res.output and "\u202e" not in res.output and "\u2028" not in res.output


def test_audit_log_since_is_read_in_a_time_zone(access_warehouse, connect_as):
    marker = f"tz_{time.time_ns()}"
    with connect_as("ggzy_auditor") as conn:
        conn.execute(f"select '{marker}'")
    time.sleep(1)
    now_shanghai = dt.datetime.now(SHANGHAI).replace(tzinfo=None)
    a_minute_ago = f"{now_shanghai - dt.timedelta(minutes=1):%Y-%m-%d %H:%M}"
    in_a_minute = f"{now_shanghai + dt.timedelta(minutes=1):%Y-%m-%d %H:%M}"
    assert marker in _audit_cli(access_warehouse, "--since", a_minute_ago).output  # default Asia/Shanghai
    assert marker not in _audit_cli(access_warehouse, "--since", in_a_minute).output
    utc = f"{dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1):%Y-%m-%d %H:%M}"
    assert marker in _audit_cli(access_warehouse, "--since", utc, "--tz", "UTC").output
    # Shanghai's wall time read as UTC is 8 hours ahead: nothing yet
    assert marker not in _audit_cli(access_warehouse, "--since", a_minute_ago, "--tz", "UTC").output
    printed = [line for line in _audit_cli(access_warehouse, "--since", a_minute_ago).output.splitlines()
               if marker in line]
    assert printed and printed[0][23:28] == "+0800"  # times printed in the zone asked for


# ---------------------------------------------------------------------------------------
# The embedded server's door
# ---------------------------------------------------------------------------------------

def test_the_embedded_server_wants_a_password(access_warehouse):
    url, _ = access_warehouse
    port = urlsplit(url).port
    for user in ("postgres", "ggzy_auditor", "ggzy_pipeline"):
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(f"postgresql://{user}@127.0.0.1:{port}/ggzy", connect_timeout=5).close()
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(f"postgresql://{user}:postgres@127.0.0.1:{port}/ggzy", connect_timeout=5).close()
    with psycopg.connect(url) as conn:  # the generated password works
        assert conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone() == (True,)
        rules = conn.execute("select type, auth_method, user_name from pg_hba_file_rules").fetchall()
    assert all(method in ("scram-sha-256", "peer") for _, method, _ in rules), rules
    assert [users for _, method, users in rules if method == "peer"] == [["postgres"]]


def test_secrets_and_data_directories_are_owner_only(access_warehouse):
    home = _home(access_warehouse)
    url, _ = access_warehouse
    pw_file = home / "secrets" / "postgres.password"
    assert pw_file.read_text().strip() == urlsplit(url).password
    for path, mode in ((home / "secrets", 0o700), (pw_file, 0o600), (home / "pgdata", 0o700)):
        assert stat.S_IMODE(path.stat().st_mode) == mode, (path, oct(path.stat().st_mode))


def test_warehouse_url_prints_a_working_url(access_warehouse):
    from ggzy.cli import main

    with _in_home(access_warehouse):
        res = CliRunner().invoke(main, ["warehouse", "url"])
    assert res.exit_code == 0
    with psycopg.connect(res.output.strip()) as conn:
        assert conn.execute("select current_database()").fetchone() == ("ggzy",)
