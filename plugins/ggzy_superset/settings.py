"""Settings for the Superset side: paths, and the environment read through
`ggzy.settings` (the project's one list of variables; standard library only, so the
Superset venv imports it without the pipeline's dependencies).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from ggzy import settings as env

REPO = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(__file__).resolve().parent
DASHBOARDS_DIR = REPO / "dashboards"
SCREENSHOTS_DIR = REPO / "docs" / "screenshots"
CONFIG_FILE = PACKAGE_DIR / "superset_config.py"
DATABASE_NAME = "GGZY 数据仓库"  # the connection's name in Superset
DATABASE_FILE = "databases/ggzy_warehouse.yaml"
MASKED = "XXXXXXXXXX"  # what Superset's export writes instead of a password


def home() -> Path:
    return Path(env.HOME.value() or REPO / ".ggzy").resolve()


def superset_home() -> Path:
    return home() / "superset"


def host() -> str:
    return env.SUPERSET_HOST.text()


def port() -> int:
    return env.SUPERSET_PORT.integer()


def base_url(port_: int | None = None) -> str:
    h = host()
    if h in ("0.0.0.0", ""):
        h = "127.0.0.1"
    return env.SUPERSET_URL.value() or f"http://{h}:{port_ or port()}"


ADMIN_PASSWORD_ENV = env.SUPERSET_ADMIN_PASSWORD.name


def admin() -> tuple[str, str]:
    """The web login of Superset's admin: GGZY_SUPERSET_ADMIN / GGZY_SUPERSET_ADMIN_PASSWORD
    (demo default admin / admin). Not GGZY_SUPERSET_PASSWORD: that is the database role
    ggzy_superset's password, and one variable used to set both."""
    return env.SUPERSET_ADMIN.text(), env.SUPERSET_ADMIN_PASSWORD.text()


def workers() -> int:
    return env.SUPERSET_WORKERS.integer()


def secret_key() -> str:
    """SUPERSET_SECRET_KEY, else one generated once and kept under GGZY_HOME.

    It must stay stable: Superset encrypts the stored warehouse password with it.
    """
    key = env.SUPERSET_SECRET_KEY.value()
    if key:
        return key
    path = superset_home() / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def metadata_url() -> str:
    url = env.SUPERSET_METADATA_URL.value() or env.SUPERSET_METADATA_URL_OLD.value()
    if url:
        return url
    return f"sqlite:///{superset_home() / 'superset.db'}?check_same_thread=false"


def warehouse_url() -> str:
    """SQLAlchemy (psycopg2) URL Superset uses to read the warehouse, password included."""
    url = (env.WAREHOUSE_URL_FOR_SUPERSET.value() or env.SUPERSET_WAREHOUSE_URL.value()
           or env.WAREHOUSE_URL.value())
    if not url:  # the embedded warehouse's superuser, password from its secrets file (ggzy.config)
        pw_file = home() / "secrets" / "postgres.password"
        pw = pw_file.read_text(encoding="utf-8").strip() if pw_file.exists() else ""
        url = f"postgresql://postgres{':' + quote(pw, safe='') if pw else ''}@127.0.0.1:{env.PG_PORT.integer()}/ggzy"
    return with_driver(url, "postgresql+psycopg2")


def with_driver(url: str, scheme: str) -> str:
    """The same URL (login, encoding, ?options verbatim) with another scheme: the psycopg2
    dialect hands the query options (sslmode, ...) to libpq as they are."""
    return urlunsplit((scheme, *urlsplit(url)[1:]))


def split_password(url: str) -> tuple[str, str]:
    """(url with the password masked as Superset exports it, the password)."""
    parts = urlsplit(url)
    password = unquote(parts.password or "")
    auth, _, hostport = parts.netloc.rpartition("@")
    user = auth.split(":", 1)[0]  # as given (already percent-encoded), like the host and the options
    netloc = f"{user}:{MASKED}@{hostport}" if user else hostport
    return urlunsplit(parts._replace(netloc=netloc)), password


def redact(url: str) -> str:
    return split_password(url)[0]
