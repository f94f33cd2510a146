"""A night re-links the lots whose link it can change, and the table stays the full refresh's
(一项一码, int_tenders_linked_to_projects; issue #18).

A lot's link depends on its own row and on the projects that can be its link: the project its
normalised code names, else its repair candidates (its owner's projects, the projects with its
code's digits), whose best score, runner-up and count any new or changed candidate moves. The
model fingerprints exactly that, so a night must re-link the lots whose candidates it touched
(not only the lots it delivered) and no other. Staging rows written here by hand, in a database
of its own (the lots of the model's unit test, read by the model alone), a first build, then
nights of changed projects and lots, each an incremental run: after each, the table must equal
the model's full-refresh select (every column, the fingerprints included), and the lots it
re-linked (ops.model_changes) must be the ones whose inputs changed. tests/test_incremental.py
checks the same equality on generated deliveries in any order.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from databases import own_database

pytestmark = pytest.mark.pipeline

REPO = Path(__file__).resolve().parents[1]
MODEL = "int_tenders_linked_to_projects"
TENDERS = [  # tender_id, tender_name, tenderer_id, region_code, project_code_raw, project_code (normalised)
    ("T1", "昆明市盘龙区道路改造工程施工", "OWNER1", "530103", "2025-530103-02-01-000001", "2025-530103-02-01-000001"),
    ("T2", "昆明市盘龙区道路改造工程监理", "OWNER1", "530103", "２０２５-530103-02-01-000001 ", "2025-530103-02-01-000001"),
    ("T3", "曲靖市麒麟区水库除险加固工程第2标段", "OWNER2", "530302", "2025-53O302-03-01-000002",
     "2025-53O302-03-01-000002"),
    ("T4", "玉溪市红塔区学校建设工程", "OWNER3", "530402", "2025-530402-01-01-000099", "2025-530402-01-01-000099"),
    ("T5", "玉溪市红塔区学校建设工程", "OWNER3", "530402", None, None),
    ("T6", "大理市污水管网改造工程", "OWNER4", "532901", "2025-5329-01-01", "2025-5329-01-01"),
]
PROJECTS = [  # project_code, project_name, owner_id, region_code
    ("2025-530103-02-01-000001", "昆明市盘龙区道路改造工程", "OWNER1", "530103"),
    ("2025-530302-03-01-000002", "曲靖市麒麟区水库除险加固工程", "OWNER2", "530302"),
    ("2025-530302-01-01-000003", "曲靖市麒麟区办公楼维修", "OWNER2", "530302"),
    ("2025-532901-01-01-000004", "大理市污水管网改造工程一期", "OWNER4", "532901"),
    ("2025-532901-01-01-000005", "大理市污水管网改造工程二期", "OWNER4", "532901"),
]


def add_projects(conn, rows) -> None:
    conn.cursor().executemany("""insert into staging.stg_approval__projects (project_code_raw, project_code, project_name, owner_id,
                        region_code) values (%s, %s, %s, %s, %s)""", [(r[0], *r) for r in rows])


@pytest.fixture(scope="module")
def night(warehouse_url, tmp_path_factory):
    """A function running one night: `night(sql)` runs the statements on staging, then the model
    incrementally; returns the lots it re-linked and the table's differences from a full refresh."""
    root = tmp_path_factory.mktemp("links")
    url = own_database(warehouse_url, "ggzy_links_incremental")
    env = os.environ | {"GGZY_WAREHOUSE_URL": url, "DBT_TARGET_PATH": str(root / "target"),
                        "DBT_LOG_PATH": str(root / "logs")}

    def ggzy(*args: str) -> None:
        proc = subprocess.run([str(Path(sys.executable).with_name("ggzy")), *args], env=env, cwd=REPO,
                              capture_output=True, text=True)
        assert proc.returncode == 0, f"ggzy {' '.join(args)}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"

    ggzy("dbt", "run", "-s", "stg_trading_centre__tenders", "stg_approval__projects")  # empty: no batch loaded
    with psycopg.connect(url) as conn:
        conn.cursor().executemany("""insert into staging.stg_trading_centre__tenders (tender_id, tender_name, tenderer_id,
                            region_code, project_code_raw, project_code) values (%s, %s, %s, %s, %s, %s)""", TENDERS)
        add_projects(conn, PROJECTS)
    ggzy("dbt", "run", "-s", MODEL)  # the first build: every lot
    ggzy("dbt", "compile", "-s", MODEL, "--full-refresh")
    full = next((root / "target" / "compiled").rglob(f"{MODEL}.sql")).read_text(encoding="utf-8")

    def run(change) -> dict:
        with psycopg.connect(url) as conn:
            change(conn)
            (since,) = conn.execute("select now()").fetchone()
        ggzy("dbt", "run", "-s", MODEL)
        with psycopg.connect(url) as conn:
            relinked = {k for (k,) in conn.execute(
                "select key_value from ops.model_changes where model = %s and logged_at > %s", (MODEL, since))}
            differ = conn.execute(f"""select count(*) from (
                (select * from intermediate.{MODEL} except all select * from ({full}) as full_refresh)
                union all
                (select * from ({full}) as full_refresh except all select * from intermediate.{MODEL})) as d""").fetchone()[0]
            links = {t: (m, r) for t, m, r in conn.execute(
                f"select tender_id, link_method, unlinked_reason from intermediate.{MODEL}")}
        return {"relinked": relinked, "differ": differ, "links": links}

    first = run(lambda conn: None)
    return {"run": run, "first": first}


def test_a_night_without_changes_relinks_nothing(night):
    assert night["first"]["relinked"] == set()
    assert night["first"]["differ"] == 0
    assert night["first"]["links"]["T3"] == ("repaired", None)  # the unit test's lots, as it expects them
    assert night["first"]["links"]["T4"] == ("unmatched", "code_not_found")


def test_new_and_changed_projects_relink_the_lots_they_are_candidates_of(night):
    def change(conn):
        # T3's owner gets a project close to T3's repair (one digit off, a longer name): no clear
        # winner any more; T4's code gets its project; one of T6's candidates moves region; T5 goes
        add_projects(conn, [("2025-530302-03-01-000012", "曲靖市麒麟区水库除险加固工程二期", "OWNER2", "530302"),
                            ("2025-530402-01-01-000099", "玉溪市红塔区学校建设工程", "OWNER9", "530402")])
        conn.execute("update staging.stg_approval__projects set region_code = '532900' "
                     "where project_code = '2025-532901-01-01-000004'")
        conn.execute("delete from staging.stg_trading_centre__tenders where tender_id = 'T5'")

    result = night["run"](change)
    assert result["differ"] == 0
    assert result["relinked"] == {"T3", "T4", "T5", "T6"}  # not T1, T2: their codes name a project
    assert result["links"]["T3"] == ("unmatched", "ambiguous_candidates")
    assert result["links"]["T4"] == ("exact", None)
    assert "T5" not in result["links"]


def test_a_project_of_another_owner_with_the_same_digits_relinks_the_lot(night):
    def change(conn):
        add_projects(conn, [("2025-532901-01", "大理市供水工程", "OWNER8", "532901")])  # T6's digits, not its owner

    result = night["run"](change)
    assert result["differ"] == 0
    assert result["relinked"] == {"T6"}
