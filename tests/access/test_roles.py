"""Each role, connected for real, can read what it should and nothing else."""

from __future__ import annotations

import time

import psycopg
import pytest
from envs import environ

from .conftest import BOND_ACCOUNT, PEOPLE, WINNER

WRITES = [
    "insert into raw.trading_centre__entities (entity_id, entity_name, entity_role, updated_at, _batch_date, _file, "
    "_line, _loaded_at) values ('X', 'x', 'bidder', now()::text, date '2026-02-27', 'x', 1, now())",
    "update raw.trading_centre__entities set entity_name = 'x'",
    "delete from raw.trading_centre__entities",
    "truncate raw.trading_centre__entities",
    "insert into ops.publications (batch_date, published, reason) values (current_date, true, 'forged')",
    "update disclosure.tender_results set award_price = 0",
    "delete from marts_placeholder_does_not_matter",
    "create table raw.auditor_was_here (x int)",
    "create table public.auditor_was_here (x int)",
    "create temp table auditor_was_here (x int)",
    "create schema auditor_was_here",
    "create view ops.auditor_view as select 1",
    "create index on raw.trading_centre__entities (entity_name)",
    "alter table raw.trading_centre__entities add column auditor_note text",
    "drop table disclosure.tender_results",
    "comment on table raw.batches is 'changed'",
    "select lo_create(0)",
    "create function public.f() returns int language sql as 'select 1'",
]


def _fails(conn: psycopg.Connection, stmt: str) -> bool:
    try:
        conn.execute(stmt)
    except psycopg.Error:
        return True
    return False


def test_auditor_reads_every_schema_including_raw_and_ops(connect_as):
    with connect_as("ggzy_auditor") as conn:
        assert conn.execute("show default_transaction_read_only").fetchone()[0] == "on"
        n = conn.execute("select count(*) from raw.trading_centre__entities").fetchone()[0]
        assert n == 5
        # personal data in the clear: the auditor sees the library as delivered
        ids = {r[0] for r in conn.execute("select legal_rep_id_no from raw.trading_centre__entities")}
        assert PEOPLE["legal_rep"][1] in ids
        for rel in ("raw.batches", "raw.quarantine", "ops.publications", "ops.quality_gate",
                    "staging.stg_trading_centre__bids", "disclosure.tender_results", "analyst.entities",
                    "reference.departments"):
            conn.execute(f"select * from {rel} limit 1")


def test_auditor_reads_tables_created_later(access_warehouse, connect_as):
    url, _ = access_warehouse
    with psycopg.connect(url, autocommit=True) as owner:
        owner.execute("create table if not exists ops.audit_probe (x int)")
        owner.execute("create table if not exists sampling.audit_probe (x int)")
        owner.execute("insert into sampling.audit_probe values (1)")
    try:
        with connect_as("ggzy_auditor") as conn:
            assert conn.execute("select count(*) from sampling.audit_probe").fetchone()[0] == 1
            conn.execute("select * from ops.audit_probe")
        with connect_as("ggzy_public") as conn:
            assert _fails(conn, "select * from sampling.audit_probe")
    finally:
        with psycopg.connect(url, autocommit=True) as owner:
            owner.execute("drop table ops.audit_probe, sampling.audit_probe")


@pytest.mark.parametrize("stmt", WRITES)
def test_auditor_cannot_write_or_change_anything(connect_as, stmt):
    with connect_as("ggzy_auditor") as conn:
        assert _fails(conn, stmt), f"the auditor could run: {stmt}"
    # Switching the read-only default off in the session does not help: no privilege.
    with connect_as("ggzy_auditor") as conn:
        conn.execute("set default_transaction_read_only = off")
        assert _fails(conn, stmt), f"the auditor could run (read-only default off): {stmt}"


def test_auditor_cannot_pass_on_its_privileges(access_warehouse, connect_as):
    url, _ = access_warehouse
    with connect_as("ggzy_auditor") as conn:
        # PostgreSQL answers a GRANT without grant option with a warning, not an error:
        # what matters is that nothing was granted.
        for stmt in ("grant select on raw.trading_centre__entities to ggzy_public",
                     "grant usage on schema raw to ggzy_public"):
            try:
                conn.execute(stmt)
            except psycopg.Error:
                pass
    with psycopg.connect(url) as conn:
        assert not conn.execute("select has_table_privilege('ggzy_public', 'raw.trading_centre__entities', 'SELECT') "
                                "or has_schema_privilege('ggzy_public', 'raw', 'USAGE')").fetchone()[0]


def test_nothing_the_auditor_tried_left_a_trace(access_warehouse):
    url, _ = access_warehouse
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from raw.trading_centre__entities").fetchone()[0] == 5
        assert conn.execute("select count(*) from pg_class where relname like 'auditor_%%'").fetchone()[0] == 0
        assert conn.execute("select count(*) from ops.publications where reason = 'forged'").fetchone()[0] == 0


def test_every_auditor_statement_is_logged(access_warehouse, connect_as):
    from ggzy import audit

    url, _ = access_warehouse
    marker = f"audit_marker_{time.time_ns()}"
    with connect_as("ggzy_auditor") as conn:
        conn.execute(f"select '{marker}' as probe, count(*) from raw.trading_centre__bids")
    for _ in range(50):  # the logging collector writes asynchronously
        entries = list(audit.entries("ggzy_auditor", url=url))
        if any(marker in e.message for e in entries):
            break
        time.sleep(0.1)
    hits = [e for e in entries if marker in e.message]
    assert hits and hits[0].user == "ggzy_auditor" and "raw.trading_centre__bids" in hits[0].line()
    # other roles' statements are not in the auditor's trail
    assert entries and all(e.user == "ggzy_auditor" for e in entries)


def test_analyst_cannot_read_raw_staging_or_intermediate(connect_as):
    with connect_as("ggzy_analyst") as conn:
        for rel in ("raw.trading_centre__entities", "raw.quarantine", "staging.stg_trading_centre__entities",
                    "staging.stg_trading_centre__bids", "intermediate.int_workdays", "ops.publications"):
            assert _fails(conn, f"select * from {rel} limit 1"), f"analyst can read {rel}"


def test_analyst_sees_masked_personal_data(connect_as):
    name, id_number = PEOPLE["legal_rep"]
    with connect_as("ggzy_analyst") as conn:
        rep, rep_id, contact, phone = conn.execute(
            "select legal_rep_name, legal_rep_id_no, contact_name, contact_phone from analyst.entities "
            "where entity_id = %s", (WINNER,)).fetchone()
        assert (rep, contact, phone) == ("张**", "李**", "138****5678")
        assert rep_id == id_number[:6] + "********" + id_number[-4:]
        account, pm = conn.execute("select bond_account, project_manager_id_no from analyst.bids").fetchone()
        assert account == "*" * (len(BOND_ACCOUNT) - 4) + BOND_ACCOUNT[-4:]
        assert pm.count("*") == 8
        links = dict(conn.execute("select link_type, linked_name from analyst.entity_links").fetchall())
        assert links["legal_rep"] == "张**" and links["project_manager"] == "周**"
        assert links["shareholder"] == "昆明市五华区城市建设投资有限公司"  # a company stays named
        experts = {r[0] for r in conn.execute("select expert_name from analyst.experts")}
        assert experts == {"欧***", "王**"}


def test_everything_the_analyst_can_read_is_free_of_personal_data(access_warehouse):
    from ggzy.disclosure import load_person_names, scan_for_pii

    url, _ = access_warehouse
    with psycopg.connect(url) as conn:
        readable = [r[0] for r in conn.execute(
            """select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
               where c.relkind in ('r', 'v', 'm', 'p') and n.nspname not in ('pg_catalog', 'information_schema')
                 and has_schema_privilege('ggzy_analyst', n.oid, 'USAGE')
                 and has_table_privilege('ggzy_analyst', c.oid, 'SELECT')""")]
        assert "analyst.entities" in readable and "disclosure.tender_results" in readable
        assert not [r for r in readable if r.split(".")[0] in ("raw", "staging", "intermediate")]
        names = load_person_names(conn)
        assert "张三丰" in names.persons
        findings = scan_for_pii(conn, relations=readable, names=names)
    assert findings == [], "\n".join(map(str, findings))


@pytest.mark.parametrize("role_name, allowed", [
    ("ggzy_public", {"disclosure"}),
    ("ggzy_superset", {"disclosure", "marts", "reference"}),
    ("ggzy_analyst", {"disclosure", "marts", "reference", "analyst"}),
])
def test_roles_see_only_their_schemas(access_warehouse, connect_as, role_name, allowed):
    url, _ = access_warehouse
    with psycopg.connect(url) as conn:
        schemas = {r[0] for r in conn.execute(
            """select nspname from pg_namespace where nspname not like 'pg\\_%%' and nspname <> 'information_schema'
               and has_schema_privilege(%s, oid, 'USAGE')""", (role_name,))} - {"public"}
        tables = {r[0] for r in conn.execute(
            """select n.nspname from pg_class c join pg_namespace n on n.oid = c.relnamespace
               where n.nspname not in ('pg_catalog', 'information_schema') and c.relkind in ('r', 'v', 'm', 'p')
                 and has_table_privilege(%s, c.oid, 'SELECT')""", (role_name,))}
    assert schemas <= allowed, f"{role_name} has USAGE on {schemas - allowed}"
    assert tables <= allowed, f"{role_name} can SELECT in {tables - allowed}"
    with connect_as(role_name) as conn:
        assert conn.execute("select count(*) from disclosure.tender_results").fetchone()[0] == 1
        for rel in ("raw.trading_centre__entities", "staging.stg_trading_centre__entities", "ops.quality_gate"):
            assert _fails(conn, f"select 1 from {rel} limit 1")
        if "marts" not in allowed:
            assert _fails(conn, "select 1 from reference.departments limit 1")
        if "analyst" not in allowed:
            assert _fails(conn, "select 1 from analyst.entities limit 1")


def test_roles_can_log_in_and_apply_is_idempotent(access_warehouse):
    from ggzy import roles

    url, _ = access_warehouse
    with environ({r.password_env: f"test-{r.name}" for r in roles.ROLES}):
        first = roles.apply(url)
        second = roles.apply(url)
    assert first == second
    with psycopg.connect(url) as conn:
        rows = dict(conn.execute(
            "select rolname, rolcanlogin from pg_roles where rolname like 'ggzy\\_%%'").fetchall())
        assert all(rows[r.name] for r in roles.ROLES)
        # the password is stored hashed
        hashed = conn.execute("select rolpassword from pg_authid where rolname = 'ggzy_analyst'").fetchone()[0]
        assert hashed.startswith("SCRAM-SHA-256$")
