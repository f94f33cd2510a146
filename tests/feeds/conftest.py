"""The feeds tests load into a database of their own on the session's server, bootstrapped
with the project's schema, so that their counts hold only the batches they wrote."""

from __future__ import annotations

import psycopg
import pytest
from databases import own_database
from envs import environ


@pytest.fixture(scope="package", autouse=True)
def warehouse_url(warehouse_url):
    """Here, `warehouse_url` is the feeds tests' own database, and the configured warehouse
    while they run (a `load_batch` without a URL loads into it, as `ggzy load` would)."""
    url = own_database(warehouse_url, "ggzy_feeds_test")
    with environ(GGZY_WAREHOUSE_URL=url):
        yield url


@pytest.fixture()
def conn(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as c:
        yield c
