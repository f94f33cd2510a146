"""Connections to the warehouse (psycopg 3), used by every module."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from ggzy import config


def connect(url: str | None = None, *, autocommit: bool = False) -> psycopg.Connection:
    return psycopg.connect(config.libpq_url(url or config.warehouse_url()), autocommit=autocommit)


@contextmanager
def transaction(url: str | None = None) -> Iterator[psycopg.Connection]:
    """One transaction: committed on success, rolled back on any error."""
    with connect(url) as conn:
        with conn.transaction():
            yield conn


def scalar(sql: str, params: tuple | dict | None = None, url: str | None = None):
    with connect(url) as conn:
        row = conn.execute(sql, params).fetchone()
        return row[0] if row else None
