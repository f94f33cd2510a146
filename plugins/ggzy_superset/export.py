"""Write the live dashboards back into dashboards/ (after editing them in the UI).

    PYTHONPATH=plugins .venv-superset/bin/python -m ggzy_superset.export [--only SLUG] [--port 8088]

Uses Superset's own export (GET /api/v1/dashboard/export/), then normalises it so
that `git diff dashboards/` shows only real changes: files keep their names (matched
by uuid; new objects get `<uuid>.yaml`), the database URL becomes the placeholder
(no host, no password: setup fills them from the environment), instance ids in
chart params are blanked, YAML is written like the author writes it.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from pathlib import Path, PurePosixPath

import yaml

from ggzy_superset import settings
from ggzy_superset.author import dump
from ggzy_superset.bundle import PLACEHOLDER_URI
from ggzy_superset.client import Client, _rison


def existing_by_uuid(root: Path) -> dict[str, Path]:
    out = {}
    for p in root.rglob("*.yaml"):
        try:
            doc = yaml.safe_load(p.read_text("utf-8"))
        except yaml.YAMLError:
            continue
        if isinstance(doc, dict) and doc.get("uuid"):
            out[str(doc["uuid"])] = p
    return out


def normalise(rel: str, doc: dict) -> dict:
    if rel.startswith("databases/"):
        doc["sqlalchemy_uri"] = PLACEHOLDER_URI
        doc.pop("password", None)
    elif rel.startswith("charts/"):
        params = doc.get("params") or {}
        params["dashboards"] = []
        params["datasource"] = "0__table"
        params.pop("slice_id", None)
        if doc.get("query_context"):
            qc = json.loads(doc["query_context"])
            qc["datasource"] = {"id": 0, "type": "table"}
            if "form_data" in qc:
                qc["form_data"]["datasource"] = "0__table"
                qc["form_data"].pop("dashboards", None)
            doc["query_context"] = json.dumps(qc, ensure_ascii=False)
    elif rel == "metadata.yaml":
        doc = {"version": doc.get("version", "1.0.0"), "type": "Dashboard", "timestamp": "2026-01-01T00:00:00+00:00"}
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="ggzy_superset.export", description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=settings.port())
    ap.add_argument("--only", action="append", help="dashboard slug (repeatable)")
    ap.add_argument("--out", type=Path, default=settings.DASHBOARDS_DIR)
    args = ap.parse_args(argv)
    client = Client(settings.base_url(args.port)).login()
    ids = [d["id"] for d in client.dashboards() if not args.only or d.get("slug") in args.only]
    if not ids:
        print("no dashboards to export")
        return 1
    res = client.get(f"/api/v1/dashboard/export/?q={_rison(ids)}")
    known = existing_by_uuid(args.out)
    written = 0
    with zipfile.ZipFile(io.BytesIO(res.content)) as zf:
        for name in zf.namelist():
            if not name.endswith((".yaml", ".yml")):
                continue
            rel = str(PurePosixPath(*PurePosixPath(name).parts[1:]))
            doc = normalise(rel, yaml.safe_load(zf.read(name).decode("utf-8")))
            if rel == "metadata.yaml":
                target = args.out / rel
            elif str(doc.get("uuid")) in known:
                target = known[str(doc["uuid"])]
            else:
                folder = PurePosixPath(rel).parent
                target = args.out / folder / f"{doc['uuid']}.yaml"
            dump(target, doc)
            written += 1
    print(f"exported {len(ids)} dashboards ({written} files) into {args.out}; review with `git diff {args.out}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
