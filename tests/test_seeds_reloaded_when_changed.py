"""A night reloads a reference seed only when its file or configuration changed (#18,
dbt_project/macros/seed_if_changed.sql): an unchanged seed keeps its table; an edited file, a
changed configuration or `--full-refresh` reloads it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ggzy import config
from ggzy.transform import dbt_command, dbt_env

SEED = "calendar_overrides"


@pytest.fixture()
def project(tmp_path) -> Path:
    """A copy of the dbt project whose seed file the test may edit."""
    copy = tmp_path / "dbt_project"
    shutil.copytree(config.dbt_project_dir(), copy,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml"))
    return copy


@pytest.fixture()
def database_url(warehouse_url):
    """A database of its own on the session's server: the seed's table is the test's to change."""
    from ggzy import schema

    name = "seed_reload_test"
    with psycopg.connect(warehouse_url, autocommit=True) as c:
        c.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
        c.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(warehouse_url, dbname=name)
    schema.bootstrap(url)
    yield url
    with psycopg.connect(warehouse_url, autocommit=True) as c:
        c.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def seed(project: Path, url: str, *flags: str) -> str:
    """`dbt seed` of the one seed; the load's status as dbt reports it (INSERT n, CREATE n, UNCHANGED 0)."""
    target = project / "target"
    proc = subprocess.run([*dbt_command(), "seed", "-s", SEED, *flags], cwd=project, capture_output=True,
                          text=True, env=dict(dbt_env(url), DBT_PROFILES_DIR=str(project),
                                              DBT_TARGET_PATH=str(target), DBT_LOG_PATH=str(project / "logs")))
    assert proc.returncode == 0, proc.stdout[-3000:]
    [result] = [r for r in json.loads((target / "run_results.json").read_text())["results"]
                if r["unique_id"].endswith("." + SEED)]
    return result["adapter_response"]["_message"]


def rows(url: str) -> int:
    with psycopg.connect(url) as c:
        return c.execute(f"select count(*) from reference.{SEED}").fetchone()[0]


def test_a_seed_is_reloaded_only_when_it_changed(project, database_url):
    csv = project / "seeds" / f"{SEED}.csv"
    assert not seed(project, database_url).startswith("UNCHANGED")  # first load
    before = rows(database_url)
    assert seed(project, database_url) == "UNCHANGED 0"  # the next night
    assert rows(database_url) == before

    with csv.open("a", encoding="utf-8") as fh:  # a notice entered in the file
        fh.write("2031-01-02,true,adjusted working day,test notice\n")
    assert seed(project, database_url) == f"CREATE {before + 1}"
    assert rows(database_url) == before + 1
    assert seed(project, database_url) == "UNCHANGED 0"

    assert seed(project, database_url, "--full-refresh") == f"CREATE {before + 1}"
