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


def stable_chart_ids(doc: dict, old: dict | None) -> dict:
    """Renumber the instance's chart ids in a dashboard as the committed file numbers them
    (matched by chart uuid), so an export shows only real changes."""
    old_ids = {}
    for v in ((old or {}).get("position") or {}).values():
        if isinstance(v, dict) and v.get("type") == "CHART":
            old_ids[v["meta"]["uuid"]] = v["meta"]["chartId"]
    mapping: dict[int, int] = {}
    nxt = max([0, *old_ids.values()]) + 1
    for v in (doc.get("position") or {}).values():
        if isinstance(v, dict) and v.get("type") == "CHART":
            new = old_ids.get(v["meta"]["uuid"])
            if new is None:
                new, nxt = nxt, nxt + 1
            mapping[v["meta"]["chartId"]] = new
            v["meta"]["chartId"] = new

    def fix(ids):
        return sorted(mapping.get(i, i) for i in ids)

    meta = doc.get("metadata") or {}
    for f in meta.get("native_filter_configuration", []):
        scope = f.get("scope") or {}
        if "excluded" in scope:
            scope["excluded"] = fix(scope["excluded"])
        # chartsInScope is not remapped by Superset's importer (scope.excluded is): drop it,
        # Superset derives it from the scope.
        f.pop("chartsInScope", None)
        f.pop("tabsInScope", None)
    gcc = meta.get("global_chart_configuration") or {}
    gcc.pop("chartsInScope", None)
    if "excluded" in (gcc.get("scope") or {}):
        gcc["scope"]["excluded"] = fix(gcc["scope"]["excluded"])
    cc = meta.get("chart_configuration") or {}
    meta["chart_configuration"] = {str(mapping.get(int(k), k)): v for k, v in cc.items()}
    for v in meta["chart_configuration"].values():
        if isinstance(v, dict) and "id" in v:
            v["id"] = mapping.get(v["id"], v["id"])
    if "timed_refresh_immune_slices" in meta:
        meta["timed_refresh_immune_slices"] = fix(meta["timed_refresh_immune_slices"])
    return doc


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
                qc["form_data"]["dashboards"] = []
            doc["query_context"] = json.dumps(qc, ensure_ascii=False)
    elif rel.startswith("datasets/"):
        doc["columns"] = sorted(doc.get("columns") or [], key=lambda c: c["column_name"])
        doc["metrics"] = sorted(doc.get("metrics") or [], key=lambda m: m["metric_name"])
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
            if rel.startswith("dashboards/") and str(doc.get("uuid")) in known:
                doc = stable_chart_ids(doc, yaml.safe_load(known[str(doc["uuid"])].read_text("utf-8")))
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
