"""Paths and URLs derived from the settings (ggzy.settings declares every variable,
its default and meaning; this module computes what depends on several of them).

The warehouse is one libpq URL everywhere (GGZY_WAREHOUSE_URL, or the embedded server's):
options such as `?sslmode=require` and a percent-encoded password reach psql, psycopg,
SQLAlchemy, Airflow's connection, dbt's profile and Superset unchanged in meaning; the URL
is parsed by libpq itself (psycopg.conninfo); a URL derived from it (another database,
login or driver) replaces that one part and keeps every other character as given.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from ggzy import settings

REPO = Path(__file__).resolve().parents[2]
WAREHOUSE_DB = "ggzy"
TIMEZONE = "Asia/Shanghai"


def home() -> Path:
    return Path(settings.HOME.value() or REPO / ".ggzy").resolve()


def pg_port() -> int:
    return settings.PG_PORT.integer()


def is_embedded() -> bool:
    return not settings.WAREHOUSE_URL.is_set()


def pgdata() -> Path:
    """$GGZY_HOME/pgdata: the embedded server's data directory (its logs in log/)."""
    return home() / "pgdata"


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
    return f"postgresql://postgres{':' + quote(pw, safe='') if pw else ''}@127.0.0.1:{port}/{database}"


def warehouse_url(database: str = WAREHOUSE_DB) -> str:
    """libpq URL of the warehouse (what an analyst pastes into psql): GGZY_WAREHOUSE_URL as
    given (only a SQLAlchemy driver suffix dropped), else the embedded server's `database`."""
    url = settings.WAREHOUSE_URL.value()
    if url:
        return libpq_url(url)
    return embedded_url(pg_port(), database)


def libpq_url(url: str) -> str:
    """Strip a SQLAlchemy driver suffix (postgresql+psycopg://) for libpq; the rest verbatim."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    return urlunsplit(parts._replace(scheme="postgresql" if scheme == "postgres" else scheme))


def sqlalchemy_url(url: str | None = None, driver: str = "psycopg") -> str:
    """The same URL for SQLAlchemy's `driver` (options kept: the dialect hands them to libpq)."""
    return _replace(url or warehouse_url(), scheme=f"postgresql+{driver}")


def with_database(url: str, database: str) -> str:
    """The same server, login and options, another database."""
    return _replace(url, path="/" + quote(database, safe=""))


def with_login(url: str, user: str, password: str | None) -> str:
    """The same server, database and options, another role (percent-encoded)."""
    login = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return _replace(url, netloc=f"{login}@{urlsplit(url).netloc.rpartition('@')[2]}")


def _replace(url: str, **part: str) -> str:
    """One part of the URL replaced, every other character kept as given (SQLAlchemy's
    URL rendering would leave a space or '?' in a password unencoded, which libpq refuses)."""
    return urlunsplit(urlsplit(libpq_url(url))._replace(**part))


def url_parts(url: str | None = None) -> dict[str, str | int | None]:
    """host, port, user, password (decoded), database of a URL, as libpq reads it."""
    kw = connection_keywords(url)
    return {
        "host": kw.pop("host", None) or "127.0.0.1",
        "port": int(kw.pop("port", None) or 5432),
        "user": kw.pop("user", None) or "postgres",
        "password": kw.pop("password", None) or "",
        "database": kw.pop("dbname", None) or "postgres",
    }


def connection_keywords(url: str | None = None) -> dict[str, str]:
    """Every libpq keyword the URL sets (sslmode, options, ...), values decoded."""
    from psycopg.conninfo import conninfo_to_dict

    return {k: str(v) for k, v in conninfo_to_dict(libpq_url(url or warehouse_url())).items() if v is not None}


def landing() -> Path:
    return Path(settings.LANDING.value() or home() / "landing").resolve()


def export_dir() -> Path:
    return Path(settings.EXPORT_DIR.value() or home() / "exports").resolve()


def dbt_project_dir() -> Path:
    return REPO / "dbt_project"


def expectations_dir() -> Path:
    return REPO / "expectations"


# Limits of the loader (ggzy.feeds): bounded work and memory per row and per file,
# whatever a producer delivers. A row over a limit is quarantined, never loaded.
def max_line_bytes() -> int:
    """GGZY_MAX_LINE_BYTES: longest physical line (a CSV record, a JSON line), default 1 MiB."""
    return settings.MAX_LINE_BYTES.integer()


def max_field_bytes() -> int:
    """GGZY_MAX_FIELD_BYTES: longest single value (CSV field, JSON string), default 64 KiB."""
    return settings.MAX_FIELD_BYTES.integer()


def max_json_depth() -> int:
    """GGZY_MAX_JSON_DEPTH: deepest nesting of objects/arrays in a JSON line, default 32."""
    return settings.MAX_JSON_DEPTH.integer()


def load_ahead_days() -> int:
    """GGZY_LOAD_AHEAD_DAYS: batch dates up to this many days after today (Asia/Shanghai)
    are loaded; later ones are held. Default 1 (tomorrow)."""
    return settings.LOAD_AHEAD_DAYS.integer()
