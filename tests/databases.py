"""A database of its own on the session's server, for a package whose assertions need
tables holding only what it wrote (its own generated landing zone, its own alerts).

A database costs a `create database`; a server of its own costs an initdb, a start and a
stop (about 10 s each on a busy 2-core machine) and a port that may collide."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg


def own_database(server_url: str, name: str) -> str:
    """URL of database `name` on the server of `server_url`, created empty (dropped first if a
    previous run left it) and bootstrapped with the project's schemas."""
    from ggzy import schema

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"drop database if exists {name} with (force)")
        conn.execute(f"create database {name}")
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    schema.bootstrap(url)
    return url
