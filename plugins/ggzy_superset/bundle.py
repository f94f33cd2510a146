"""The dashboards/ tree <-> Superset's import/export ZIP bundle.

dashboards/ holds Superset's own export layout (metadata.yaml, databases/,
datasets/, charts/, dashboards/). The database file carries a placeholder URL
with a masked password; at import time the real URL comes from the environment
and the password travels separately (the API's `passwords` field).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import yaml

from ggzy_superset import settings

ROOT = "ggzy_dashboards"
PLACEHOLDER_URI = f"postgresql+psycopg2://ggzy_superset:{settings.MASKED}@127.0.0.1:5432/ggzy"


def files(src: Path | None = None) -> list[Path]:
    src = src or settings.DASHBOARDS_DIR
    return sorted(p for p in src.rglob("*.yaml") if p.is_file())


def digest(src: Path | None = None) -> str:
    src = src or settings.DASHBOARDS_DIR
    h = hashlib.sha256()
    for p in files(src):
        h.update(str(p.relative_to(src)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def build_zip(warehouse_url: str, src: Path | None = None) -> tuple[bytes, dict[str, str]]:
    """ZIP for POST /api/v1/assets/import/ and its `passwords` field."""
    src = src or settings.DASHBOARDS_DIR
    masked, password = settings.split_password(warehouse_url)
    passwords: dict[str, str] = {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in files(src):
            rel = p.relative_to(src).as_posix()
            text = p.read_text("utf-8")
            if rel.startswith("databases/"):
                doc = yaml.safe_load(text)
                doc["sqlalchemy_uri"] = masked if password else warehouse_url
                text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
                if password:
                    passwords[rel] = password
            if rel == "metadata.yaml":
                # /api/v1/assets/import/ overwrites databases, datasets and charts too;
                # the dashboard importer would only overwrite the dashboards themselves.
                doc = yaml.safe_load(text)
                doc["type"] = "assets"
                text = yaml.safe_dump(doc, sort_keys=False)
            zf.writestr(f"{ROOT}/{rel}", text)
    return buf.getvalue(), passwords
