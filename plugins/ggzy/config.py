"""Settings, all from the environment, so one set of commands runs any landing
zone into any warehouse.

| variable | meaning | default |
|---|---|---|
| GGZY_HOME | local state: embedded warehouse, Airflow home, logs, exports | <repo>/.ggzy |
| GGZY_WAREHOUSE_URL | libpq/SQLAlchemy URL of the warehouse; unset = embedded Postgres | embedded |
| GGZY_PG_PORT | TCP port of the embedded Postgres (127.0.0.1) | 55432 |
| GGZY_LANDING | landing folder <landing>/<feed>/<YYYY-MM-DD>/ | $GGZY_HOME/landing |
| GGZY_EXPORT_DIR | where disclosure exports are written | $GGZY_HOME/exports |
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[2]
WAREHOUSE_DB = "ggzy"
TIMEZONE = "Asia/Shanghai"


def home() -> Path:
    return Path(os.environ.get("GGZY_HOME", REPO / ".ggzy")).resolve()


def pg_port() -> int:
    return int(os.environ.get("GGZY_PG_PORT", "55432"))


def is_embedded() -> bool:
    return not os.environ.get("GGZY_WAREHOUSE_URL")


def warehouse_url(database: str = WAREHOUSE_DB) -> str:
    """libpq URL of the warehouse (what an analyst pastes into psql)."""
    url = os.environ.get("GGZY_WAREHOUSE_URL")
    if url:
        return libpq_url(url)
    return f"postgresql://postgres:postgres@127.0.0.1:{pg_port()}/{database}"


def libpq_url(url: str) -> str:
    """Strip a SQLAlchemy driver suffix (postgresql+psycopg://) for libpq."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "postgres":
        scheme = "postgresql"
    return urlunsplit((scheme, *parts[1:]))


def sqlalchemy_url(url: str | None = None, driver: str = "psycopg") -> str:
    parts = urlsplit(libpq_url(url or warehouse_url()))
    return urlunsplit((f"postgresql+{driver}", *parts[1:]))


def url_parts(url: str | None = None) -> dict[str, str | int | None]:
    parts = urlsplit(libpq_url(url or warehouse_url()))
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": parts.username or "postgres",
        "password": parts.password or "",
        "database": (parts.path or "/").lstrip("/") or "postgres",
    }


def landing() -> Path:
    return Path(os.environ.get("GGZY_LANDING", home() / "landing")).resolve()


def export_dir() -> Path:
    return Path(os.environ.get("GGZY_EXPORT_DIR", home() / "exports")).resolve()


def dbt_project_dir() -> Path:
    return REPO / "dbt_project"


def expectations_dir() -> Path:
    return REPO / "expectations"
