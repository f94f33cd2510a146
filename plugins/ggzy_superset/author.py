"""Write dashboards/ (Superset's export layout) from the spec in `spec.py`.

    PYTHONPATH=plugins .venv-superset/bin/python -m ggzy_superset.author [--only SLUG]

Why a generator: ten dashboards and ~100 charts are too many to click together and
keep consistent (the same filters, labels, colours and layout rules everywhere).
The spec states what each chart shows; this module turns it into the YAML that
Superset itself exports and imports (stable uuid5 UUIDs, so a re-run is a no-op
diff). Column lists come from the warehouse's information_schema, so run it
against a warehouse where the marts are built.

Editing in the UI is fine too: `python -m ggzy_superset.export` writes the live
dashboards back into the same files. Port such an edit into spec.py before the
next `author` run, or the run overwrites it (`git diff dashboards/` shows both).

Who does what: model.py (the spec's vocabulary), spec*.py (what each dashboard shows),
yaml_datasets.py / yaml_charts.py / yaml_dashboards.py (Superset's export YAML of each),
this module (reads the marts' columns, checks the spec against them, writes the files and
the dbt exposures).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from ggzy_superset import settings, spec
from ggzy_superset.model import Chart, Dashboard, Dataset
from ggzy_superset.yaml_charts import chart_yaml
from ggzy_superset.yaml_dashboards import dashboard_yaml
from ggzy_superset.yaml_datasets import database_yaml, dataset_yaml, table_columns

ALLOWED_SCHEMAS = ("marts",)  # dashboards read marts only (数据运行 too: marts.fct_batch_ledger)


def dump(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120), "utf-8")


def write_all(out: Path, warehouse_url: str, only: set[str] | None = None) -> list[Path]:
    import psycopg2

    datasets = {d.table: d for d in spec.DATASETS}
    charts = {c.key: c for c in spec.CHARTS}
    dashboards = [d for d in spec.DASHBOARDS if not only or d.slug in only]
    used_charts = [cell[0] for d in dashboards for row in d.rows for cell in row if cell[0] != "md"]
    missing = [k for k in used_charts if k not in charts]
    if missing:
        raise SystemExit(f"charts used but not defined: {missing}")
    chart_ids = {k: i + 1 for i, k in enumerate(charts)}  # placeholders, remapped on import
    used_ds = sorted({charts[k].dataset for k in used_charts})
    for t in used_ds:
        d = datasets[t]
        if d.schema not in ALLOWED_SCHEMAS:
            raise SystemExit(f"dataset {d.schema}.{d.table}: dashboards read marts only")
    written: list[Path] = []
    url = settings.with_driver(warehouse_url, "postgresql")
    with psycopg2.connect(url) as conn:
        cols = {t: table_columns(conn, datasets[t].schema, t) for t in used_ds}
    cols_by_ds = {t: {c for c, _ in cols[t]} | {c.name for c in datasets[t].calcs} for t in used_ds}
    for k in used_charts:
        ch = charts[k]
        need = [*ch.groupby, *ch.columns, *([ch.x] if ch.x else [])]
        bad = [c for c in need if c not in cols_by_ds[ch.dataset]]
        metric_names = {m.name for m in datasets[ch.dataset].metrics}
        bad += [m for m in ch.metrics if m not in metric_names]
        if bad:
            raise SystemExit(f"chart {k}: unknown columns/metrics on {ch.dataset}: {bad}")
    dump(out / "metadata.yaml", {"version": "1.0.0", "type": "Dashboard", "timestamp": "2026-01-01T00:00:00+00:00"})
    dump(out / settings.DATABASE_FILE, database_yaml())
    written.append(out / settings.DATABASE_FILE)
    for t in used_ds:
        p = out / "datasets" / "ggzy_warehouse" / f"{t}.yaml"
        dump(p, dataset_yaml(datasets[t], cols[t]))
        written.append(p)
    for k in dict.fromkeys(used_charts):
        p = out / "charts" / f"{k}.yaml"
        dump(p, chart_yaml(charts[k], datasets[charts[k].dataset], chart_ids[k]))
        written.append(p)
    for d in dashboards:
        p = out / "dashboards" / f"{d.slug}.yaml"
        dump(p, dashboard_yaml(d, charts, datasets, cols_by_ds, chart_ids))
        written.append(p)
    if not only:
        written_exp = write_exposures(spec.DASHBOARDS, charts, datasets)
        print(f"wrote {written_exp}")
    # drop files of charts/datasets/dashboards the spec no longer has
    if not only:
        keep = set(written) | {out / "metadata.yaml"}
        for sub in ("charts", "datasets", "dashboards", "databases"):
            for p in (out / sub).rglob("*.yaml"):
                if p not in keep:
                    p.unlink()
    return written


EXPOSURES_FILE = settings.REPO / "dbt_project" / "models" / "marts" / "_exposures.yml"


def write_exposures(dashboards: list[Dashboard], charts: dict[str, Chart], datasets: dict[str, Dataset]) -> Path:
    """dbt exposures: one per dashboard, naming the marts it reads (dbt ls/docs show the lineage)."""
    exposures = []
    for d in dashboards:
        tables = list(dict.fromkeys(charts[cell[0]].dataset for row in d.rows for cell in row if cell[0] != "md"))
        marts = [t for t in tables if datasets[t].schema == "marts"]
        others = [f"{datasets[t].schema}.{t}" for t in tables if datasets[t].schema != "marts"]
        desc = d.description + (f" Also reads {', '.join(others)} (not dbt models)." if others else "")
        exposures.append({
            "name": "superset_" + d.slug.replace("-", "_"),
            "label": f"Superset 看板：{d.title}",
            "type": "dashboard",
            "maturity": "medium",
            "url": f"http://127.0.0.1:8088/superset/dashboard/{d.slug}/",
            "description": desc,
            "depends_on": [f"ref('{t}')" for t in marts],
            "owner": {"name": "GGZY Watch 数据组", "email": "data-team@ggzy.local"},
            "config": {"meta": {"dashboard_uuid": d.uuid, "source": "dashboards/dashboards/" + d.slug + ".yaml"}},
        })
    header = ("# Generated by `python -m ggzy_superset.author` from plugins/ggzy_superset/spec.py:\n"
              "# one exposure per Superset dashboard, naming the marts it reads. Do not edit by hand.\n")
    EXPOSURES_FILE.write_text(header + yaml.safe_dump({"version": 2, "exposures": exposures}, allow_unicode=True,
                                                      sort_keys=False, width=120), "utf-8")
    return EXPOSURES_FILE


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="ggzy_superset.author", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=settings.DASHBOARDS_DIR)
    ap.add_argument("--only", action="append", help="dashboard slug (repeatable)")
    args = ap.parse_args(argv)
    files = write_all(args.out, settings.warehouse_url(), set(args.only or []))
    print(f"wrote {len(files)} files under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
