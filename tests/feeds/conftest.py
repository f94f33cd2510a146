"""A throwaway embedded PostgreSQL for the feeds tests (own GGZY_HOME and port),
bootstrapped with the project's schema, dropped at the end of the session."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

PORT = int(os.environ.get("GGZY_TEST_FEEDS_PORT", "55601"))


@pytest.fixture(scope="session")
def warehouse_url():
    home = Path(tempfile.mkdtemp(prefix="ggzy-feeds-test-"))
    old = {k: os.environ.get(k) for k in ("GGZY_HOME", "GGZY_PG_PORT", "GGZY_WAREHOUSE_URL")}
    os.environ.update(GGZY_HOME=str(home), GGZY_PG_PORT=str(PORT))
    os.environ.pop("GGZY_WAREHOUSE_URL", None)
    from ggzy import schema, warehouse

    try:
        url = warehouse.start()
    except Exception:
        # warehouse.py writes log_filename unquoted (a '%' in postgresql.auto.conf is a
        # syntax error); quote it and retry so these tests do not depend on that fix.
        conf = warehouse.pgdata() / "postgresql.auto.conf"
        text = conf.read_text()
        conf.write_text(text.replace("log_filename = postgresql-%Y-%m-%d.log",
                                     "log_filename = 'postgresql-%Y-%m-%d.log'"))
        url = warehouse.start()
    schema.bootstrap(url)
    yield url
    try:
        warehouse.stop()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture()
def conn(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as c:
        yield c
