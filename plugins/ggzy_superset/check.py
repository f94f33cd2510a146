"""Query every chart of every dashboard through Superset's API; fail on an empty
or erroring chart (except lists marked `ggzy_may_be_empty` in their params, whose
emptiness is good news, e.g. no refused batch).

    PYTHONPATH=plugins .venv-superset/bin/python -m ggzy_superset.check [--port 8088] [--json out.json]

Each chart runs its saved query_context (POST /api/v1/chart/data), as
`GET /api/v1/chart/{id}/data/` would, with the datasource fixed to the chart's own.
Also proves that dashboard filters reach the data: for each select filter of the
总览 dashboard, the first chart in its scope is queried once more with the filter's
first value, and its numbers must change.
Exit code 0 only if every chart returned rows.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from ggzy_superset import settings
from ggzy_superset.client import Client, SupersetError


def run_chart(client: Client, chart: dict[str, Any], extra_filters: list[dict] | None = None) -> dict[str, Any]:
    qc = json.loads(chart.get("query_context") or "null") or None
    if qc is None:
        return {"ok": False, "error": "chart has no saved query_context (open and save it once in the UI)"}
    ds = {"id": chart["datasource_id"], "type": chart.get("datasource_type") or "table"}
    qc["datasource"] = ds
    qc.setdefault("form_data", {})["datasource"] = f"{ds['id']}__{ds['type']}"
    if extra_filters:
        for q in qc["queries"]:
            q["filters"] = [*q.get("filters", []), *extra_filters]
    t = time.time()
    try:
        res = client.chart_data(qc)
    except SupersetError as exc:
        return {"ok": False, "error": str(exc)[:400], "seconds": round(time.time() - t, 2)}
    results = res.get("result", [])
    errors = [r.get("error") for r in results if r.get("error")]
    rows = sum(int(r.get("rowcount") or 0) for r in results)
    data = results[0].get("data") if results else None
    nonnull = bool(data) and any(v is not None for row in data for v in row.values())
    out = {"ok": not errors and rows > 0 and nonnull, "rows": rows, "seconds": round(time.time() - t, 2),
           "data": data[:3] if data else []}
    if errors:
        out["error"] = "; ".join(errors)[:400]
    elif rows == 0:
        out["error"] = "no rows"
    elif not nonnull:
        out["error"] = "only null values"
    return out


def filter_effect(client: Client, dashboard: dict[str, Any], charts: dict[int, dict]) -> list[dict[str, Any]]:
    """Apply a select filter's most frequent values to a big number in its scope; the number must change."""
    meta = json.loads(dashboard.get("json_metadata") or "{}")
    out = []
    for f in meta.get("native_filter_configuration", []):
        if f.get("filterType") != "filter_select":
            continue
        col = f["targets"][0]["column"]["name"]
        excluded = set(f.get("scope", {}).get("excluded", []))
        scoped = [c for cid, c in sorted(charts.items()) if cid not in excluded and c.get("viz_type") == "big_number_total"]
        if not scoped:
            continue
        chart = scoped[0]
        n = {"expressionType": "SQL", "sqlExpression": "count(*)", "label": "n"}
        values = client.post("/api/v1/chart/data", json={
            "datasource": {"id": chart["datasource_id"], "type": "table"},
            "queries": [{"columns": [col], "metrics": [n], "row_limit": 5, "orderby": [[n, False]],
                         "filters": [], "extras": {}}],
            "result_format": "json", "result_type": "full"}, ok=(200,))
        vals = [r[col] for r in values["result"][0]["data"] if r.get(col) is not None]
        result = {"filter": f["name"], "column": col, "chart": chart["slice_name"], "ok": False,
                  "error": f"no value of {col} changes {chart['slice_name']!r}"}
        base = run_chart(client, chart)
        for v in vals:
            filtered = run_chart(client, chart, [{"col": col, "op": "IN", "val": [v]}])
            if filtered["ok"] and filtered.get("data") != base.get("data"):
                result = {"filter": f["name"], "column": col, "value": v, "chart": chart["slice_name"],
                          "before": base.get("data"), "after": filtered.get("data"), "ok": True}
                break
        out.append(result)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="ggzy_superset.check", description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=settings.port())
    ap.add_argument("--json", help="write the full report here")
    ap.add_argument("--allow-empty", action="append", default=[],
                    help="chart title allowed to return no rows (repeatable); default: none")
    ap.add_argument("--errors-only", action="store_true",
                    help="fail only on erroring charts, not on empty ones (tiny test data)")
    args = ap.parse_args(argv)
    client = Client(settings.base_url(args.port)).login()
    report: dict[str, Any] = {"dashboards": [], "failures": 0}
    seen: set[int] = set()
    for d in sorted(client.dashboards(), key=lambda d: d["id"]):
        full = client.get(f"/api/v1/dashboard/{d['id']}")["result"]
        charts = {c["id"]: client.chart(c["id"]) | {"id": c["id"]} for c in client.dashboard_charts(d["id"])}
        entry = {"id": d["id"], "slug": d.get("slug"), "title": d["dashboard_title"], "charts": []}
        print(f"== {d['dashboard_title']} ({d.get('slug')}): {len(charts)} charts")
        if not charts:
            entry["error"] = "dashboard has no charts"
            report["failures"] += 1
        for cid, chart in sorted(charts.items()):
            res = run_chart(client, chart)
            seen.add(cid)
            empty = res.get("error") in ("no rows", "only null values")
            may_be_empty = json.loads(chart.get("params") or "{}").get("ggzy_may_be_empty", False)
            if not res["ok"] and empty and (args.errors_only or may_be_empty or chart["slice_name"] in args.allow_empty):
                res["ok"] = True
                res["note"] = "empty (allowed)"
            mark = ("ok " if not res.get("note") else "empty") if res["ok"] else "FAIL"
            print(f"  {mark} {chart['slice_name']:<40} {chart['viz_type']:<24} rows={res.get('rows', '-')}"
                  f" {res.get('seconds', '')}s {res.get('error', '')}")
            entry["charts"].append({"id": cid, "title": chart["slice_name"], "viz": chart["viz_type"], **res})
            report["failures"] += 0 if res["ok"] else 1
        if d.get("slug") == "overview":
            entry["filter_effect"] = filter_effect(client, full, charts)
            for fe in entry["filter_effect"]:
                mark = "ok " if fe["ok"] else "FAIL"
                print(f"  {mark} filter {fe['filter']}={fe.get('value')!r} on {fe.get('chart')!r}: "
                      f"{fe.get('before')} -> {fe.get('after')}")
                report["failures"] += 0 if fe["ok"] else 1
        report["dashboards"].append(entry)
    report["charts_checked"] = len(seen)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, ensure_ascii=False, indent=1, default=str)
    print(f"{len(report['dashboards'])} dashboards, {len(seen)} charts, {report['failures']} failures")
    return 0 if report["failures"] == 0 and report["dashboards"] else 1


if __name__ == "__main__":
    sys.exit(main())
