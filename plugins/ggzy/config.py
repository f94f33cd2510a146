"""Settings, all from the environment, so one set of commands runs any landing
zone into any warehouse.

| variable | meaning | default |
|---|---|---|
| GGZY_HOME | local state: embedded warehouse, Airflow home, logs, exports | <repo>/.ggzy |
| GGZY_WAREHOUSE_URL | libpq/SQLAlchemy URL of the warehouse; unset = embedded Postgres | embedded |
| GGZY_PG_PORT | TCP port of the embedded Postgres (127.0.0.1) | 55432 |
| GGZY_LANDING | landing folder <landing>/<feed>/<YYYY-MM-DD>/ | $GGZY_HOME/landing |
| GGZY_EXPORT_DIR | where disclosure exports are written | $GGZY_HOME/exports |
| GGZY_PSEUDONYM_KEY | key of the pseudonyms of natural persons (ggzy.pseudonym) | generated into $GGZY_HOME/secrets |
| GGZY_MAX_LINE_BYTES | longest line the loader takes (CSV record, JSON line); longer: quarantined (too_long) | 1048576 |
| GGZY_MAX_FIELD_BYTES | longest value (CSV field, JSON key or string); longer: quarantined (too_long) | 65536 |
| GGZY_MAX_JSON_DEPTH | deepest nesting of a JSON line; deeper: quarantined (json_depth) | 32 |
| GGZY_LOAD_AHEAD_DAYS | batch dates after today + N days (Asia/Shanghai) are held, not loaded | 1 |
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


def secrets_dir(home_dir: Path | None = None) -> Path:
    """$GGZY_HOME/secrets: generated passwords and keys, owner-only (mode 700, files 600)."""
    return (home_dir or home()) / "secrets"


def superuser_password_file(home_dir: Path | None = None) -> Path:
    return secrets_dir(home_dir) / "postgres.password"


def embedded_url(port: int, database: str = WAREHOUSE_DB, home_dir: Path | None = None) -> str:
    """URL of the embedded server's superuser, with the password generated at its first
    start (none before that: a server made by an older version still trusts 127.0.0.1
    until `ggzy warehouse start` sets the password)."""
    f = superuser_password_file(home_dir)
    pw = f.read_text(encoding="utf-8").strip() if f.exists() else ""
    return f"postgresql://postgres{':' + pw if pw else ''}@127.0.0.1:{port}/{database}"


def warehouse_url(database: str = WAREHOUSE_DB) -> str:
    """libpq URL of the warehouse (what an analyst pastes into psql)."""
    url = os.environ.get("GGZY_WAREHOUSE_URL")
    if url:
        return libpq_url(url)
    return embedded_url(pg_port(), database)


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


# Limits of the loader (ggzy.feeds): bounded work and memory per row and per file,
# whatever a producer delivers. A row over a limit is quarantined, never loaded.
def max_line_bytes() -> int:
    """GGZY_MAX_LINE_BYTES: longest physical line (a CSV record, a JSON line), default 1 MiB."""
    return int(os.environ.get("GGZY_MAX_LINE_BYTES", str(1 << 20)))


def max_field_bytes() -> int:
    """GGZY_MAX_FIELD_BYTES: longest single value (CSV field, JSON string), default 64 KiB."""
    return int(os.environ.get("GGZY_MAX_FIELD_BYTES", str(64 << 10)))


def max_json_depth() -> int:
    """GGZY_MAX_JSON_DEPTH: deepest nesting of objects/arrays in a JSON line, default 32."""
    return int(os.environ.get("GGZY_MAX_JSON_DEPTH", "32"))


def load_ahead_days() -> int:
    """GGZY_LOAD_AHEAD_DAYS: batch dates up to this many days after today (Asia/Shanghai)
    are loaded; later ones are held. Default 1 (tomorrow)."""
    return int(os.environ.get("GGZY_LOAD_AHEAD_DAYS", "1"))
