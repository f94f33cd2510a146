"""A small warehouse of our own for the access tests: its own embedded PostgreSQL (tmp
GGZY_HOME, free port), raw rows written by hand with known personal data, dbt built up to
the disclosure tables and the analyst views, then `roles apply`. Every test connects as a
real role over TCP.

Hand-made rows (rather than the demo generator) because the assertions name the exact
people and numbers that must never show: 张三丰's ID number and phone, the bond account...
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import psycopg
import pytest
from envs import environ
from psycopg import sql

BATCH = dt.date(2026, 2, 27)
DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def uscc(body17: str) -> str:
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(body17, USCC_WEIGHTS, strict=True))
    return body17 + USCC_ALPHABET[(31 - total % 31) % 31]


def id_no(body17: str) -> str:
    total = sum(int(ch) * w for ch, w in zip(body17, ID_WEIGHTS, strict=True))
    return body17 + "10X98765432"[total % 11]


WINNER, TENDERER, AGENCY, BANNED, REPAIRED = (
    uscc("91530100MA6K0001A"), uscc("11530100MB0002001"), uscc("91530100MA6K0003C"),
    uscc("91530100MA6K0004D"), uscc("91530100MA6K0005E"),
)
# The personal data that must never reach analysts unmasked or the public at all.
PEOPLE = {
    "legal_rep": ("张三丰", id_no("53010219800101123")),
    "contact": ("李思远", "13812345678"),
    "banned_rep": ("赵敏", id_no("53250119750615331")),
    "expert": ("欧阳娜娜", None),
    "expert2": ("王小明", None),
    "project_manager": ("周建华", id_no("53290119851212004")),
}
BOND_ACCOUNT = "6222020200112233445"

ROWS: dict[str, list[dict]] = {
    "trading_centre__entities": [
        dict(entity_id=WINNER, entity_name="云南滇峰建设工程有限公司", entity_role="bidder",
             legal_rep_name="张三丰", legal_rep_id_no=PEOPLE["legal_rep"][1], contact_name="李思远",
             contact_phone="13812345678", address="昆明市五华区", region_code="530102",
             registered_capital="50000000", established_on="2015-03-01"),
        dict(entity_id=TENDERER, entity_name="昆明市五华区城市建设投资有限公司", entity_role="tenderer",
             legal_rep_name="钱学军", legal_rep_id_no=id_no("53010219700202111"), region_code="530102"),
        dict(entity_id=AGENCY, entity_name="云南明信招标代理有限公司", entity_role="agency",
             contact_name="孙丽", contact_phone="13987654321", region_code="530100"),
        dict(entity_id=BANNED, entity_name="云南恒通路桥有限公司", entity_role="bidder",
             legal_rep_name="赵敏", legal_rep_id_no=PEOPLE["banned_rep"][1], region_code="532501"),
        dict(entity_id=REPAIRED, entity_name="云南修复科技有限公司", entity_role="bidder", region_code="530100"),
    ],
    "trading_centre__entity_links": [
        dict(entity_id=WINNER, link_type="legal_rep", linked_id=PEOPLE["legal_rep"][1], linked_name="张三丰"),
        dict(entity_id=WINNER, link_type="project_manager", linked_id=PEOPLE["project_manager"][1],
             linked_name="周建华"),
        dict(entity_id=WINNER, link_type="shareholder", linked_id=TENDERER, linked_name="昆明市五华区城市建设投资有限公司",
             share_pct="30"),
    ],
    "trading_centre__tenders": [
        dict(tender_id="T2026-0001", project_code="2026-530102-48-01-000123", tender_name="五华区学府路道路改造工程",
             category="construction", industry="housing", region_code="530100", tenderer_id=TENDERER,
             agency_id=AGENCY, procurement_method="open", control_price="12000000.00",
             announced_at="2026-01-05T09:00:00+08:00", bid_deadline="2026-01-26T09:30:00+08:00",
             status="awarded"),
    ],
    "trading_centre__bids": [
        dict(bid_id="B1", tender_id="T2026-0001", bidder_id=WINNER, bid_price="11500000.00",
             submitted_at="2026-01-25T10:00:00+08:00", bond_account=BOND_ACCOUNT,
             project_manager_id_no=PEOPLE["project_manager"][1], is_valid="true"),
    ],
    "trading_centre__experts": [
        dict(expert_id="X1", expert_name="欧阳娜娜", specialty="市政", region_code="530100"),
        dict(expert_id="X2", expert_name="王小明", specialty="房建", region_code="530100"),
    ],
    "trading_centre__awards": [
        dict(tender_id="T2026-0001", winner_id=WINNER, award_price="11500000.00",
             awarded_at="2026-02-03T10:00:00+08:00", publicity_start="2026-02-04", publicity_end="2026-02-06"),
    ],
    "trading_centre__complaints": [
        dict(complaint_id="K1", tender_id="T2026-0001", kind="complaint", channel="online",
             received_at="2026-02-05T09:00:00+08:00", received_by="530100-GGZY", forwarded_to="530100-HOUSING",
             forwarded_at="2026-02-06T09:00:00+08:00", accepted_at="2026-02-06T10:00:00+08:00",
             feedback_at="2026-02-10T10:00:00+08:00", outcome="rejected"),
        dict(complaint_id="K2", kind="report", channel="paper", received_at="2026-02-09T09:00:00+08:00",
             received_by="530100-GGZY", forwarded_to="530100-HOUSING", forwarded_at="2026-02-20T09:00:00+08:00",
             outcome="pending"),
    ],
    "trading_centre__cases": [
        dict(case_id="C1", tender_id="T2026-0001", subject_type="expert", subject_id="X1",
             violation="expert_misconduct", decided_by="530100-HOUSING", decided_at="2026-02-10T10:00:00+08:00",
             penalty="暂停评标资格6个月"),
        dict(case_id="C2", subject_type="bidder", subject_id=BANNED, violation="collusion",
             decided_by="530100-HOUSING", decided_at="2025-06-01T10:00:00+08:00", penalty="罚款并取消中标资格"),
        dict(case_id="C3", subject_type="bidder", subject_id=REPAIRED, violation="other",
             decided_by="530100-HOUSING", decided_at="2026-01-10T10:00:00+08:00", penalty="警告"),
    ],
    "credit_china__records": [
        dict(record_id="R1", entity_id=BANNED, entity_name="云南恒通路桥有限公司", list_type="serious_dishonest",
             reason="串通投标", authority="云南省发展和改革委员会", decision_no="云发改信用〔2025〕12号",
             decided_on="2025-06-10", effective_from="2025-06-10", effective_until="2028-06-09",
             measures="bid_ban;procurement_ban"),
        dict(record_id="R2", entity_id=REPAIRED, entity_name="云南修复科技有限公司", list_type="serious_dishonest",
             reason="虚假材料", authority="云南省发展和改革委员会", decided_on="2025-01-10", effective_from="2025-01-10",
             revoked_on="2026-02-01", measures="bid_ban"),
    ],
}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _insert_raw(conn: psycopg.Connection) -> None:
    from ggzy.feeds import contract as c

    for ff in c.FILES:
        cols = ff.column_names
        exists = conn.execute("select to_regclass(%s)", (f"raw.{ff.table}",)).fetchone()[0]
        if not exists:  # the loader's ensure_raw_tables is not installed: same shape by hand
            conn.execute(sql.SQL(
                "create table raw.{} ({}, _batch_date date not null, _file text not null, _line integer not null, "
                "_loaded_at timestamptz not null, _extra jsonb) partition by list (_batch_date)").format(
                sql.Identifier(ff.table), sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(n)) for n in cols)))
        part = f"{ff.table}_{BATCH:%Y%m%d}"
        conn.execute(sql.SQL("create table if not exists raw.{} partition of raw.{} for values in ({})").format(
            sql.Identifier(part), sql.Identifier(ff.table), sql.Literal(BATCH)))
        for line, row in enumerate(ROWS.get(ff.table, []), start=2):
            row = {**{n: None for n in cols}, **row}
            if "updated_at" in cols:
                row["updated_at"] = "2026-02-27T08:00:00+08:00"
            conn.execute(sql.SQL(
                "insert into raw.{} ({}, _batch_date, _file, _line, _loaded_at) values ({}, %s, %s, %s, now())").format(
                sql.Identifier(ff.table), sql.SQL(", ").join(map(sql.Identifier, cols)),
                sql.SQL(", ").join(sql.Placeholder() * len(cols))),
                [row[n] for n in cols] + [BATCH, ff.name, line])
        conn.execute(
            """insert into raw.batches (feed, batch_date, status, rows_delivered, rows_loaded, manifest)
               values (%s, %s, 'loaded', 0, 0, %s) on conflict do nothing""",
            (ff.feed, BATCH, json.dumps({"feed": ff.feed, "batch_date": BATCH.isoformat()})))


def dbt_selection(*within: str) -> list[str]:
    """What the access warehouse is built of, as of BATCH: the disclosure tables, the
    analyst views and dim_entity (pseudonyms), with their parents and nothing else;
    `within`: only these models and what they feed.

    Each disclosure model is named by its file: `+path:models/disclosure` with the sampling
    tables excluded would still build their parents (the whole risk layer, ~30 models more)."""
    disclosure = DBT_PROJECT / "models" / "disclosure"
    closure = [f"+path:models/disclosure/{p.name}" for p in sorted(disclosure.glob("*.sql"))]
    closure += ["+path:models/disclosure/analyst", "+dim_entity"]
    select = [f"{m}+,{c}" for m in within for c in closure] if within else closure
    return ["--select", *select, "--vars", json.dumps({"as_of_date": BATCH.isoformat()})]


@pytest.fixture(scope="session")
def access_warehouse():
    """(url, export_root) of a built warehouse with the roles applied.

    GGZY_HOME is a folder of our own, not pytest's tmp_path: pytest sets its
    /tmp/pytest-of-<user> to mode 700 and prunes old runs, which locks out (or deletes
    the data of) the unprivileged user the embedded server runs as when root runs tests."""
    import shutil
    import tempfile

    from ggzy import roles, schema, warehouse
    from ggzy.transform import run_dbt

    home = Path(tempfile.mkdtemp(prefix="ggzy-access-"))
    env = {"GGZY_HOME": str(home), "GGZY_PG_PORT": str(_free_port()), "GGZY_WAREHOUSE_URL": None,
           "GGZY_DEMO": None, **{r.password_env: f"test-{r.name}" for r in roles.ROLES}}
    with environ(env):
        url = warehouse.start()
    try:
        with environ(env):
            schema.bootstrap(url)
            with psycopg.connect(url, autocommit=True) as conn:
                _insert_raw(conn)
            # Roles first (as the setup does), so default privileges cover what dbt creates.
            roles.apply(url)
            # data tests of these models, not unit tests: tests/dbt_unit runs every one of those
            rc = run_dbt(["build", *dbt_selection(), "--indirect-selection", "cautious",
                          "--exclude-resource-type", "unit_test"], url=url, check=False)
            assert rc == 0, "dbt build of the disclosure tables failed (see output above)"
            roles.apply(url)  # again: idempotent
        yield url, home / "exports"
    finally:
        with environ(env):
            warehouse.stop()
        shutil.rmtree(home, ignore_errors=True)


def role_url(url: str, role_name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    p = urlsplit(url)
    return urlunsplit((p.scheme, f"{role_name}:test-{role_name}@{p.hostname}:{p.port}", p.path, "", ""))


@pytest.fixture(scope="session")
def connect_as(access_warehouse):
    url, _ = access_warehouse

    def _connect(role_name: str, **kw) -> psycopg.Connection:
        return psycopg.connect(role_url(url, role_name), autocommit=True, **kw)

    return _connect
