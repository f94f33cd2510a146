"""Settings for the Superset side, from the environment (stdlib only).

Mirrors the pipeline's `ggzy.config` for the few values both need (GGZY_HOME,
the warehouse URL) without importing it: the Superset venv must stay free of
the pipeline's dependencies.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(__file__).resolve().parent
DASHBOARDS_DIR = REPO / "dashboards"
SCREENSHOTS_DIR = REPO / "docs" / "screenshots"
CONFIG_FILE = PACKAGE_DIR / "superset_config.py"
DATABASE_NAME = "GGZY 数据仓库"  # the connection's name in Superset
DATABASE_FILE = "databases/ggzy_warehouse.yaml"
MASKED = "XXXXXXXXXX"  # what Superset's export writes instead of a password


def home() -> Path:
    return Path(os.environ.get("GGZY_HOME", REPO / ".ggzy")).resolve()


def superset_home() -> Path:
    return home() / "superset"


def host() -> str:
    return os.environ.get("GGZY_SUPERSET_HOST", "127.0.0.1")


def port() -> int:
    return int(os.environ.get("GGZY_SUPERSET_PORT", "8088"))


def base_url(port_: int | None = None) -> str:
    h = host()
    if h in ("0.0.0.0", ""):
        h = "127.0.0.1"
    return os.environ.get("GGZY_SUPERSET_URL") or f"http://{h}:{port_ or port()}"


ADMIN_PASSWORD_ENV = "GGZY_SUPERSET_ADMIN_PASSWORD"


def admin() -> tuple[str, str]:
    """The web login of Superset's admin: GGZY_SUPERSET_ADMIN / GGZY_SUPERSET_ADMIN_PASSWORD
    (demo default admin / admin). Not GGZY_SUPERSET_PASSWORD: that is the database role
    ggzy_superset's password, and one variable used to set both."""
    return (os.environ.get("GGZY_SUPERSET_ADMIN", "admin"), os.environ.get(ADMIN_PASSWORD_ENV, "admin"))


def workers() -> int:
    return int(os.environ.get("GGZY_SUPERSET_WORKERS", "2"))


def secret_key() -> str:
    """SUPERSET_SECRET_KEY, else one generated once and kept under GGZY_HOME.

    It must stay stable: Superset encrypts the stored warehouse password with it.
    """
    key = os.environ.get("SUPERSET_SECRET_KEY")
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
    url = os.environ.get("SUPERSET_METADATA_URL") or os.environ.get("GGZY_SUPERSET_METADATA_URL")
    if url:
        return url
    return f"sqlite:///{superset_home() / 'superset.db'}?check_same_thread=false"


def warehouse_url() -> str:
    """SQLAlchemy (psycopg2) URL Superset uses to read the warehouse, password included."""
    url = (os.environ.get("GGZY_WAREHOUSE_URL_FOR_SUPERSET") or os.environ.get("GGZY_SUPERSET_WAREHOUSE_URL")
           or os.environ.get("GGZY_WAREHOUSE_URL"))
    if not url:  # the embedded warehouse's superuser, password from its secrets file (ggzy.config)
        pw_file = home() / "secrets" / "postgres.password"
        pw = pw_file.read_text(encoding="utf-8").strip() if pw_file.exists() else ""
        url = f"postgresql://postgres{':' + pw if pw else ''}@127.0.0.1:{int(os.environ.get('GGZY_PG_PORT', '55432'))}/ggzy"
    parts = urlsplit(url)
    return urlunsplit(("postgresql+psycopg2", *parts[1:]))


def split_password(url: str) -> tuple[str, str]:
    """(url with the password masked as Superset exports it, the password)."""
    parts = urlsplit(url)
    password = unquote(parts.password or "")
    user = parts.username or ""
    hostport = parts.hostname or ""
    if parts.port:
        hostport += f":{parts.port}"
    netloc = f"{quote(user, safe='')}:{MASKED}@{hostport}" if user else hostport
    return urlunsplit((parts.scheme, netloc, *parts[2:])), password


def redact(url: str) -> str:
    return split_password(url)[0]
