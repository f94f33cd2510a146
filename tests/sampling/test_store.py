"""Draw, verify and immutability on a real PostgreSQL (the session warehouse server, in
a database of its own with a synthetic directory, so no dbt run is needed)."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest
from click.testing import CliRunner
from sampling_synthetic import PLAN, inspectors, objects

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def url(warehouse_url):
    """A fresh database with the bootstrap DDL and the tables a draw reads."""
    import random

    from ggzy import schema

    name = f"sampling_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(f"create database {name}")
    url = warehouse_url.rsplit("/", 1)[0] + "/" + name
    schema.bootstrap(url)
    rng = random.Random(7)
    objs, pool = objects(40, rng), inspectors(rng)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema if not exists reference; create schema if not exists marts")
        cols = ", ".join(f"{k} text" for k in PLAN if k not in ("min_per_stratum", "max_per_stratum",
                         "inspectors_per_object", "publish_workdays", "joint", "avoid_local_office", "active"))
        conn.execute(f"create table reference.sampling_plan ({cols}, min_per_stratum int, max_per_stratum int, "
                     "inspectors_per_object int, publish_workdays int, joint bool, avoid_local_office bool, active bool)")
        for plan_id, period in (("T-PLAN", "monthly"), ("T-QUARTER", "quarterly")):
            row = dict(PLAN, plan_id=plan_id, period=period)
            conn.execute(f"insert into reference.sampling_plan ({', '.join(row)}) values ({', '.join(['%s'] * len(row))})",
                         list(row.values()))
        conn.execute("create table reference.departments (code text, kind text)")
        conn.execute("create table reference.inspectors (inspector_id text, name text, department_code text, "
                     "region_code text, law_enforcement_cert text, specialties text, active bool)")
        conn.execute("create table reference.inspector_conflicts (inspector_id text, entity_id text, reason text)")
        for i in pool:
            conn.execute("insert into reference.departments values (%s, %s) on conflict do nothing",
                         (i["department_code"], i["department_kind"]))
            conn.execute("insert into reference.inspectors values (%s, '张三', %s, %s, %s, %s, %s)",
                         (i["inspector_id"], i["department_code"], i["region_code"],
                          "C1" if i["certified"] else "", i["specialties"], i["active"]))
        conn.execute("insert into reference.inspector_conflicts values ('I001', 'E001', '曾任职')")
        conn.execute("create table marts.dim_inspection_objects (object_type text, object_id text, object_name text, "
                     "category text, industry text, region_code text, prefecture_code text, "
                     "responsible_department_kind text, related_entity_ids text, risk_level text, "
                     "risk_score numeric, credit_level text, as_of_date date)")
        for o in objs:
            conn.execute("insert into marts.dim_inspection_objects values "
                         "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '2026-10-31')",
                         [o[k] for k in ("object_type", "object_id", "object_name", "category", "industry",
                                         "region_code", "prefecture_code", "responsible_department_kind",
                                         "related_entity_ids", "risk_level", "risk_score", "credit_level")])
    yield url
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(f"drop database {name} with (force)")


def run_cli(url, monkeypatch, *args):
    from ggzy.cli import main

    monkeypatch.setenv("GGZY_WAREHOUSE_URL", url)
    return CliRunner().invoke(main, list(args))


def sql(url, text, *params, replica=False):
    with psycopg.connect(url, autocommit=True) as conn:
        if replica:  # what a superuser could do to get round the triggers
            conn.execute("set session_replication_role = replica")
        return conn.execute(text, params).fetchall() if text.lstrip().lower().startswith(("select", "with")) else \
            conn.execute(text, params)


def test_draw_refused_without_commitment(url, monkeypatch):
    r = run_cli(url, monkeypatch, "draw", "--plan", "T-PLAN", "--period", "2026-10", "--seed", "abc")
    assert r.exit_code != 0 and "no seed committed" in r.output


def test_draw_and_verify(url, monkeypatch):
    r = run_cli(url, monkeypatch, "draw", "seed-commit", "--plan", "T-PLAN", "--period", "2026-11", "--seed", "云南-2026-11")
    assert r.exit_code == 0, r.output
    r = run_cli(url, monkeypatch, "draw", "--plan", "T-PLAN", "--period", "2026-11", "--seed", "wrong")
    assert r.exit_code != 0 and "does not match the commitment" in r.output
    r = run_cli(url, monkeypatch, "draw", "--plan", "T-PLAN", "--period", "2026-11", "--seed", "云南-2026-11")
    assert r.exit_code == 0, r.output
    assert "T-PLAN-2026-11: drawn" in r.output
    (n,) = sql(url, "select selected from sampling.draws where draw_id = 'T-PLAN-2026-11'")[0]
    assert n > 0
    assert sql(url, "select count(*) from sampling.draw_inspectors where draw_id = 'T-PLAN-2026-11'")[0][0] >= 2 * n
    r = run_cli(url, monkeypatch, "verify", "T-PLAN-2026-11")
    assert r.exit_code == 0, r.output
    assert "CONFIRMED" in r.output
    # a second run is the same draw, not a new one
    r = run_cli(url, monkeypatch, "draw", "--plan", "T-PLAN", "--period", "2026-11")
    assert r.exit_code == 0 and "already drawn" in r.output
    assert sql(url, "select count(*) from sampling.draws")[0][0] == 1


def test_quarterly_plan_is_not_drawn_off_quarter(url, monkeypatch):
    run_cli(url, monkeypatch, "draw", "seed-commit", "--plan", "T-QUARTER", "--period", "2026-11", "--seed", "q")
    r = run_cli(url, monkeypatch, "draw", "--plan", "T-QUARTER", "--period", "2026-11")
    assert r.exit_code != 0 and "has no draw in 2026-11" in r.output


def test_escrowed_seed_and_next_draw_avoids_previous_inspectors(url):
    from ggzy.sampling.store import commit_seed, perform_draw

    commit_seed("T-PLAN", "2026-12", seed="escrowed seed", url=url)
    out = perform_draw("T-PLAN", "2026-12", url=url)
    assert out.created
    repeats = sql(url, """
        select count(*) from sampling.draw_inspectors as n
        join sampling.draw_inspectors as p
          on p.draw_id = 'T-PLAN-2026-11' and (p.object_type, p.object_id, p.inspector_id)
             = (n.object_type, n.object_id, n.inspector_id)
        where n.draw_id = 'T-PLAN-2026-12'""")[0][0]
    assert repeats == 0


@pytest.mark.parametrize("statement", [
    "update sampling.draws set seed = 'other' where draw_id = 'T-PLAN-2026-11'",
    "delete from sampling.draw_objects where draw_id = 'T-PLAN-2026-11'",
    "update sampling.snapshots set content = content || ' '",
    "update sampling.seed_commitments set seed_sha256 = repeat('0', 64)",
    "truncate sampling.draw_inspectors cascade",
])
def test_draws_are_immutable(url, statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        sql(url, statement)


_months = iter(f"2027-{m:02d}" for m in range(1, 13))


@pytest.fixture
def fresh_draw(url):
    """A draw of its own for each tampering, confirmed before it is tampered with."""
    from ggzy.sampling.store import commit_seed, perform_draw, verify

    period = next(_months)
    commit_seed("T-PLAN", period, seed=f"seed {period}", url=url)
    draw_id = perform_draw("T-PLAN", period, url=url).draw_id
    assert verify(draw_id, url=url).ok
    return draw_id


@pytest.mark.parametrize("tamper", [
    # the stored snapshot: a risk level changed after the draw
    """update sampling.snapshots set content = replace(content, '"risk_level":"low"', '"risk_level":"high"')
       where inputs_hash = (select inputs_hash from sampling.draws where draw_id = %(d)s)""",
    # the revealed seed
    "update sampling.draws set seed = seed || 'x' where draw_id = %(d)s",
    # the result rows: another inspector written in
    """update sampling.draw_inspectors set inspector_id = 'I999'
       where draw_id = %(d)s and slot = 1 and object_id =
             (select min(object_id) from sampling.draw_objects where draw_id = %(d)s)""",
    # the result rows: a drawn object swapped for another one
    """update sampling.draw_objects set rank_in_stratum = rank_in_stratum + 100
       where draw_id = %(d)s and rank_in_stratum = 1""",
    # the recorded result hash
    "update sampling.draws set result_hash = repeat('0', 64) where draw_id = %(d)s",
    # the commitment (made to look as if it was for another seed)
    """update sampling.seed_commitments set seed_sha256 = repeat('0', 64)
       where (plan_id, period) = (select plan_id, period from sampling.draws where draw_id = %(d)s)""",
])
def test_verify_detects_a_changed_input(url, monkeypatch, fresh_draw, tamper):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set session_replication_role = replica")  # what only a superuser could do
        conn.execute(tamper, {"d": fresh_draw})
    r = run_cli(url, monkeypatch, "verify", fresh_draw)
    assert r.exit_code == 1, r.output
    assert "REFUTED" in r.output and "FAIL" in r.output


def test_result_recorded_with_due_date_in_working_days(url, monkeypatch):
    (object_id,) = sql(url, "select min(object_id) from sampling.draw_objects where draw_id = 'T-PLAN-2026-11'")[0]
    # inspected Friday 2026-09-25; National Day 10-01..10-07 off, Saturday 10-10 worked (调休):
    # 09-28, 29, 30, 10-08, 09, 10, 12, 13, 14, 15 -> due 10-15 (Mon-Fri alone would give 10-09)
    r = run_cli(url, monkeypatch, "draw", "result", "T-PLAN-2026-11", object_id, "--finding", "未发现问题",
                "--inspected-on", "2026-09-25")
    assert r.exit_code == 0, r.output
    (due,) = sql(url, "select publication_due_on from sampling.inspection_results where object_id = %s", object_id)[0]
    assert due == dt.date(2026, 10, 15)
    r = run_cli(url, monkeypatch, "draw", "result", "T-PLAN-2026-11", "NOT-DRAWN", "--finding", "x",
                "--inspected-on", "2026-09-25")
    assert r.exit_code != 0 and "was not drawn" in r.output
