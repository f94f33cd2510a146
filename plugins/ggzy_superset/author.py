"""Write dashboards/ (Superset's export layout) from the spec in `spec.py`.

    PYTHONPATH=plugins .venv-superset/bin/python -m ggzy_superset.author [--only SLUG]

Why a generator: 8 dashboards and ~80 charts are too many to click together and
keep consistent (the same filters, labels, colours and layout rules everywhere).
The spec states what each chart shows; this module turns it into the YAML that
Superset itself exports and imports (stable uuid5 UUIDs, so a re-run is a no-op
diff). Column lists come from the warehouse's information_schema, so run it
against a warehouse where the marts are built.

Editing in the UI is fine too: `python -m ggzy_superset.export` writes the live
dashboards back into the same files. Port such an edit into spec.py before the
next `author` run, or the run overwrites it (`git diff dashboards/` shows both).

Besides `params` (what the browser renders), every chart gets a `query_context`
(what `GET /api/v1/chart/{id}/data/` and `ggzy_superset.check` run).
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ggzy_superset import settings
from ggzy_superset.bundle import PLACEHOLDER_URI

NS = uuid.UUID("6f1c2a0e-6d0b-5b7e-9a43-2c5d7f0e9a11")
DB_UUID = str(uuid.uuid5(NS, "database:ggzy_warehouse"))
ALLOWED_SCHEMAS = ("marts",)
# the data engineers' dashboard (数据运行) reads the load ledger until marts.fct_load_ledger exists
ALLOWED_OTHER_TABLES = ("raw.batches", "raw.quarantine")


def uid(kind: str, key: str) -> str:
    return str(uuid.uuid5(NS, f"{kind}:{key}"))


# ---------------------------------------------------------------------------- spec types
@dataclass
class Metric:
    name: str
    label: str
    expression: str
    d3format: str | None = None
    description: str | None = None


@dataclass
class Calc:
    """A calculated column (a SQL expression on the mart's own columns)."""

    name: str
    label: str
    expression: str
    type: str = "TEXT"
    is_dttm: bool = False


@dataclass
class Dataset:
    table: str
    time_column: str | None  # main datetime column; the dashboards' date-range filter targets it
    labels: dict[str, str] = field(default_factory=dict)  # column -> Chinese label
    metrics: list[Metric] = field(default_factory=list)
    calcs: list[Calc] = field(default_factory=list)
    description: str = ""
    schema: str = "marts"

    @property
    def uuid(self) -> str:
        return uid("dataset", f"{self.schema}.{self.table}")


@dataclass
class Chart:
    key: str  # stable ASCII id -> uuid and file name
    title: str
    dataset: str
    viz: str
    metrics: list[str] = field(default_factory=list)
    groupby: list[str] = field(default_factory=list)
    x: str | None = None  # x axis (time or category) for timeseries-family charts
    time_grain: str | None = None  # P1D / P1W / P1M when x is temporal
    columns: list[str] = field(default_factory=list)  # raw table columns
    where: list[str] = field(default_factory=list)  # SQL WHERE clauses (adhoc, custom SQL)
    order_by: list[tuple[str, bool]] = field(default_factory=list)  # (metric/column, ascending)
    row_limit: int | None = None
    description: str | None = None
    number_format: str = "SMART_NUMBER"
    extra: dict[str, Any] = field(default_factory=dict)  # params merged last
    may_be_empty: bool = False  # a list whose emptiness is good news (no refused batch); the check accepts it

    @property
    def uuid(self) -> str:
        return uid("chart", self.key)


@dataclass
class Filter:
    key: str
    name: str
    kind: str  # "time" | "select"
    column: str | None = None
    dataset: str | None = None  # dataset that lists the values (select filters)
    multi: bool = True


@dataclass
class Dashboard:
    slug: str
    title: str
    rows: list[list[tuple]]  # each cell: ("chart key", width[, height]) or ("md", "markdown", width[, height])
    filters: list[Filter]
    description: str = ""
    marts: list[str] = field(default_factory=list)  # for the dbt exposure; derived when empty

    @property
    def uuid(self) -> str:
        return uid("dashboard", self.slug)


# ---------------------------------------------------------------------------- warehouse
PG_TYPES = {
    "text": "TEXT",
    "character varying": "VARCHAR",
    "character": "CHAR",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "numeric": "NUMERIC",
    "double precision": "DOUBLE PRECISION",
    "real": "REAL",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp with time zone": "TIMESTAMP WITH TIME ZONE",
    "timestamp without time zone": "TIMESTAMP WITHOUT TIME ZONE",
    "jsonb": "JSONB",
    "json": "JSON",
    "ARRAY": "ARRAY",
}


def table_columns(conn, schema: str, table: str) -> list[tuple[str, str]]:
    with conn.cursor() as cur:
        cur.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, table),
        )
        return [(name, PG_TYPES.get(dtype, dtype.upper())) for name, dtype in cur.fetchall()]


# ---------------------------------------------------------------------------- YAML builders
def database_yaml() -> dict[str, Any]:
    return {
        "database_name": settings.DATABASE_NAME,
        "sqlalchemy_uri": PLACEHOLDER_URI,
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_file_upload": False,
        "extra": {
            "allows_virtual_table_explore": True,
            "metadata_params": {},
            "engine_params": {"connect_args": {"application_name": "superset", "options": "-c statement_timeout=120000"}},
            "schemas_allowed_for_file_upload": [],
        },
        "impersonate_user": False,
        "configuration_method": "sqlalchemy_form",
        "uuid": DB_UUID,
        "version": "1.0.0",
    }


def dataset_yaml(ds: Dataset, cols: list[tuple[str, str]]) -> dict[str, Any]:
    if not cols:
        raise SystemExit(f"{ds.schema}.{ds.table} not found in the warehouse: build the marts first")
    names = {c for c, _ in cols}
    for col in [*ds.labels, *([ds.time_column] if ds.time_column else [])]:
        if col not in names and col not in {c.name for c in ds.calcs}:
            raise SystemExit(f"{ds.schema}.{ds.table}: spec names column {col!r}, which the mart does not have")
    columns = []
    for name, typ in cols:
        columns.append(_column(name, ds.labels.get(name), typ, typ in ("DATE",) or typ.startswith("TIMESTAMP")))
    for c in ds.calcs:
        col = _column(c.name, c.label, c.type, c.is_dttm)
        col["expression"] = c.expression
        columns.append(col)
    metrics = [
        {
            "metric_name": m.name,
            "verbose_name": m.label,
            "metric_type": None,
            "expression": m.expression,
            "description": m.description,
            "d3format": m.d3format,
            "currency": None,
            "extra": {},
            "warning_text": None,
        }
        for m in ds.metrics
    ]
    columns.sort(key=lambda c: c["column_name"])  # the order `export` writes, so round trips diff cleanly
    metrics.sort(key=lambda m: m["metric_name"])
    return {
        "table_name": ds.table,
        "main_dttm_col": ds.time_column,
        "currency_code_column": None,
        "description": ds.description or None,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "catalog": None,
        "schema": ds.schema,
        "sql": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "folders": None,
        "uuid": ds.uuid,
        "metrics": metrics,
        "columns": columns,
        "version": "1.0.0",
        "database_uuid": DB_UUID,
    }


def _column(name: str, label: str | None, typ: str, is_dttm: bool) -> dict[str, Any]:
    return {
        "column_name": name,
        "verbose_name": label,
        "is_dttm": is_dttm,
        "is_active": True,
        "type": typ,
        "advanced_data_type": None,
        "groupby": True,
        "filterable": True,
        "expression": None,
        "description": None,
        "python_date_format": None,
        "datetime_format": None,
        "extra": None,
    }


def _adhoc_sql(clause: str, i: int) -> dict[str, Any]:
    return {
        "clause": "WHERE",
        "expressionType": "SQL",
        "sqlExpression": clause,
        "subject": None,
        "operator": None,
        "comparator": None,
        "isExtra": False,
        "isNew": False,
        "filterOptionName": f"filter_sql_{i}",
    }


def _time_filter(col: str) -> dict[str, Any]:
    return {"clause": "WHERE", "comparator": "No filter", "expressionType": "SIMPLE", "operator": "TEMPORAL_RANGE",
            "subject": col}


def chart_yaml(ch: Chart, ds: Dataset, chart_id: int) -> dict[str, Any]:
    adhoc = [_time_filter(ds.time_column)] if ds.time_column else []
    adhoc += [_adhoc_sql(w, i) for i, w in enumerate(ch.where)]
    p: dict[str, Any] = {
        "datasource": "0__table",  # the instance's dataset id is set on import
        "viz_type": ch.viz,
        "adhoc_filters": adhoc,
        "extra_form_data": {},
        "dashboards": [],
        "color_scheme": "supersetColors",
        "annotation_layers": [],
    }
    metric = ch.metrics[0] if ch.metrics else None
    if ch.viz == "big_number_total":
        p.update(metric=metric, header_font_size=0.4, subheader_font_size=0.15, y_axis_format=ch.number_format,
                 time_format="smart_date")
    elif ch.viz == "big_number":
        p.update(metric=metric, x_axis=ch.x, time_grain_sqla=ch.time_grain or "P1M", show_trend_line=True,
                 start_y_axis_at_zero=True, compare_lag=1, compare_suffix="较上期", header_font_size=0.4,
                 subheader_font_size=0.15, y_axis_format=ch.number_format, time_format="%Y-%m", rolling_type="None")
    elif ch.viz in ("echarts_timeseries_line", "echarts_timeseries_bar", "echarts_area"):
        p.update(
            x_axis=ch.x, metrics=ch.metrics, groupby=ch.groupby, row_limit=ch.row_limit or 10000,
            order_desc=True, show_legend=True, legendOrientation="top", legendType="scroll", rich_tooltip=True,
            y_axis_format=ch.number_format, x_axis_time_format="%Y-%m-%d", tooltipTimeFormat="%Y-%m-%d",
            truncateXAxis=True, truncate_metric=True, show_empty_columns=True, comparison_type="values",
            only_total=True, sort_series_type="sum", x_axis_title_margin=15, y_axis_title_margin=15,
            y_axis_title_position="Left", y_axis_bounds=[None, None], zoomable=False, show_value=False,
        )
        if ch.time_grain:
            p["time_grain_sqla"] = ch.time_grain
        if ch.viz == "echarts_timeseries_bar":
            p.update(orientation=ch.extra.pop("orientation", "vertical"), stack=ch.extra.pop("stack", None))
        horizontal = p.get("orientation") == "horizontal"
        if ch.viz == "echarts_timeseries_line":
            p.update(markerEnabled=True, markerSize=6, seriesType="line")
        if ch.time_grain:
            fmt = {"P1M": "%Y-%m", "P1W": "%m-%d", "P1D": "%m-%d"}.get(ch.time_grain, "%Y-%m-%d")
            p.update(x_axis_time_format=fmt, tooltipTimeFormat="%Y-%m-%d")
        else:  # categorical x axis: largest first, long Chinese names slanted
            p.update(x_axis_sort=ch.metrics[0] if ch.metrics else None, x_axis_sort_asc=False,
                     x_axis_sort_series="sum", x_axis_sort_series_ascending=False,
                     xAxisLabelRotation=0 if horizontal else 45)
    elif ch.viz == "pie":
        p.update(metric=metric, groupby=ch.groupby, row_limit=ch.row_limit or 100, sort_by_metric=True,
                 show_labels=True, show_labels_threshold=3, label_type="key_percent", labels_outside=True,
                 outerRadius=60, innerRadius=30, donut=True, show_legend=False, legendOrientation="bottom",
                 legendType="scroll", number_format=ch.number_format, show_total=True)
    elif ch.viz == "treemap_v2":
        p.update(metric=metric, groupby=ch.groupby, row_limit=ch.row_limit or 1000, show_labels=True,
                 show_upper_labels=True, label_type="key_value", number_format=ch.number_format)
    elif ch.viz == "heatmap_v2":
        p.update(x_axis=ch.x, groupby=ch.groupby[0], metric=metric, row_limit=ch.row_limit or 10000,
                 sort_x_axis="alpha_asc", sort_y_axis="alpha_asc", normalize_across="heatmap", legend_type="continuous",
                 linear_color_scheme="oranges", show_legend=True, show_values=True, value_bounds=[None, None],
                 y_axis_format=ch.number_format, xscale_interval=-1, yscale_interval=-1, left_margin="auto",
                 bottom_margin="auto", time_format="smart_date", x_axis_time_format="%Y-%m")
        if ch.time_grain:
            p["time_grain_sqla"] = ch.time_grain
    elif ch.viz == "table":
        if ch.columns:  # raw records
            p.update(query_mode="raw", all_columns=ch.columns, groupby=[], metrics=[], percent_metrics=[],
                     order_by_cols=[json.dumps([c, asc]) for c, asc in ch.order_by])
        else:
            p.update(query_mode="aggregate", groupby=ch.groupby, metrics=ch.metrics, all_columns=[],
                     percent_metrics=[], timeseries_limit_metric=ch.order_by[0][0] if ch.order_by else None,
                     order_desc=not (ch.order_by[0][1] if ch.order_by else False))
        # fetch every row (no "limit reached" warning) and page through them
        p.update(row_limit=ch.row_limit or 1000, server_page_length=ch.extra.pop("page_length", 15),
                 table_timestamp_format="%Y-%m-%d",
                 show_cell_bars=True, color_pn=True, allow_render_html=False, include_search=False,
                 temporal_columns_lookup={})
    else:
        raise ValueError(f"viz {ch.viz} not supported by the author")
    p.update(ch.extra)
    if ch.may_be_empty:
        p["ggzy_may_be_empty"] = True  # read by ggzy_superset.check; Superset ignores unknown keys
    return {
        "slice_name": ch.title,
        "description": ch.description,
        "certified_by": None,
        "certification_details": None,
        "viz_type": ch.viz,
        "params": p,
        "query_context": json.dumps(query_context(ch, ds, p, chart_id), ensure_ascii=False),
        "cache_timeout": None,
        "uuid": ch.uuid,
        "version": "1.0.0",
        "dataset_uuid": ds.uuid,
    }


def query_context(ch: Chart, ds: Dataset, params: dict[str, Any], chart_id: int) -> dict[str, Any]:
    """The query a chart runs, in /api/v1/chart/data form (datasource id fixed up by the check)."""
    filters = [{"col": ds.time_column, "op": "TEMPORAL_RANGE", "val": "No filter"}] if ds.time_column else []
    where = " AND ".join(f"({w})" for w in ch.where)
    q: dict[str, Any] = {
        "filters": filters,
        "extras": {"having": "", "where": where},
        "applied_time_extras": {},
        "columns": [],
        "metrics": list(ch.metrics),
        "orderby": [],
        "annotation_layers": [],
        "row_limit": params.get("row_limit", 10000),
        "series_limit": 0,
        "order_desc": True,
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
        "post_processing": [],
    }
    def axis(col: str) -> dict[str, Any] | str:
        if ch.time_grain:
            return {"timeGrain": ch.time_grain, "columnType": "BASE_AXIS", "sqlExpression": col, "label": col,
                    "expressionType": "SQL"}
        return col

    if ch.viz in ("big_number_total",):
        pass
    elif ch.viz == "big_number":
        q["columns"] = [axis(ch.x)]
    elif ch.viz.startswith("echarts_") or ch.viz == "echarts_area":
        q["columns"] = [axis(ch.x), *ch.groupby]
        q["orderby"] = [[ch.metrics[0], False]] if ch.metrics else []
    elif ch.viz in ("pie", "treemap_v2"):
        q["columns"] = list(ch.groupby)
        q["orderby"] = [[ch.metrics[0], False]]
    elif ch.viz == "heatmap_v2":
        q["columns"] = [axis(ch.x), ch.groupby[0]]
    elif ch.viz == "table":
        if ch.columns:
            q["columns"] = list(ch.columns)
            q["metrics"] = None  # raw records: no GROUP BY
            q["orderby"] = [[c, asc] for c, asc in ch.order_by]
        else:
            q["columns"] = list(ch.groupby)
            q["orderby"] = [[c, asc] for c, asc in ch.order_by] or ([[ch.metrics[0], False]] if ch.metrics else [])
    form_data = dict(params)
    return {
        "datasource": {"id": 0, "type": "table"},  # set to the dataset's id on import
        "force": False,
        "queries": [q],
        "form_data": form_data,
        "result_format": "json",
        "result_type": "full",
    }


def dashboard_yaml(d: Dashboard, charts: dict[str, Chart], datasets: dict[str, Dataset],
                   cols_by_ds: dict[str, set[str]], chart_ids: dict[str, int]) -> dict[str, Any]:
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"children": ["GRID_ID"], "id": "ROOT_ID", "type": "ROOT"},
        "GRID_ID": {"children": [], "id": "GRID_ID", "parents": ["ROOT_ID"], "type": "GRID"},
        "HEADER_ID": {"id": "HEADER_ID", "meta": {"text": d.title}, "type": "HEADER"},
    }
    for r, row in enumerate(d.rows):
        row_id = f"ROW-{d.slug}-{r}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {"children": [], "id": row_id, "meta": {"background": "BACKGROUND_TRANSPARENT"},
                            "parents": ["ROOT_ID", "GRID_ID"], "type": "ROW"}
        for c, cell in enumerate(row):
            if cell[0] == "md":
                _, text, width, *rest = cell
                cid = f"MARKDOWN-{d.slug}-{r}-{c}"
                position[cid] = {"children": [], "id": cid, "meta": {"code": text, "height": rest[0] if rest else 50,
                                                                     "width": width},
                                 "parents": ["ROOT_ID", "GRID_ID", row_id], "type": "MARKDOWN"}
            else:
                key, width, *rest = cell
                ch = charts[key]
                cid = f"CHART-{key}"
                position[cid] = {"children": [], "id": cid,
                                 "meta": {"chartId": chart_ids[key], "height": rest[0] if rest else 50,
                                          "sliceName": ch.title, "uuid": ch.uuid, "width": width},
                                 "parents": ["ROOT_ID", "GRID_ID", row_id], "type": "CHART"}
            position[row_id]["children"].append(cid)
        widths = sum(cell[2] if cell[0] == "md" else cell[1] for cell in row)
        if widths > 12:
            raise ValueError(f"{d.slug} row {r}: widths add up to {widths} > 12")
    keys = [cell[0] for row in d.rows for cell in row if cell[0] != "md"]
    nfc = []
    for f in d.filters:
        if f.kind == "time":
            excluded = [chart_ids[k] for k in keys if not datasets[charts[k].dataset].time_column]
            if len(excluded) == len(keys):
                continue  # no chart of this dashboard has a date
            target: dict[str, Any] = {}
            ftype, controls = "filter_time", {}
        else:
            excluded = [chart_ids[k] for k in keys if f.column not in cols_by_ds[charts[k].dataset]]
            having = [charts[k].dataset for k in keys if f.column in cols_by_ds[charts[k].dataset]]
            if not having:
                continue  # no chart of this dashboard has the column
            lister = f.dataset or having[0]
            target = {"column": {"name": f.column}, "datasetUuid": datasets[lister].uuid}
            ftype = "filter_select"
            controls = {"enableEmptyFilter": False, "defaultToFirstItem": False, "multiSelect": f.multi,
                        "searchAllOptions": False, "inverseSelection": False, "creatable": False}
        nfc.append({
            "id": f"NATIVE_FILTER-{f.key}",
            "name": f.name,
            "filterType": ftype,
            "type": "NATIVE_FILTER",
            "targets": [target],
            "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
            "controlValues": controls,
            "cascadeParentIds": [],
            # no chartsInScope: the importer remaps scope.excluded to the instance's chart ids but
            # not chartsInScope; without it Superset derives the charts from the scope.
            "scope": {"rootPath": ["ROOT_ID"], "excluded": sorted(excluded)},
            "description": "",
        })
    return {
        "dashboard_title": d.title,
        "description": d.description or None,
        "css": "",
        "slug": d.slug,
        "certified_by": "",
        "certification_details": "",
        "published": True,
        "uuid": d.uuid,
        "position": position,
        "metadata": {
            "native_filter_configuration": nfc,
            "chart_configuration": {},
            "global_chart_configuration": {"scope": {"rootPath": ["ROOT_ID"], "excluded": []}},
            "color_scheme": "supersetColors",
            "color_scheme_domain": [],
            "shared_label_colors": [],
            "map_label_colors": {},
            "label_colors": {},
            "expanded_slices": {},
            "refresh_frequency": 0,
            "timed_refresh_immune_slices": [],
            "cross_filters_enabled": True,
        },
        "theme_uuid": None,
        "version": "1.0.0",
    }


# ---------------------------------------------------------------------------- files
def dump(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120), "utf-8")


def write_all(out: Path, warehouse_url: str, only: set[str] | None = None) -> list[Path]:
    import psycopg2

    from ggzy_superset import spec

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
        if d.schema not in ALLOWED_SCHEMAS and f"{d.schema}.{d.table}" not in ALLOWED_OTHER_TABLES:
            raise SystemExit(f"dataset {d.schema}.{d.table}: dashboards read marts only")
    written: list[Path] = []
    url = warehouse_url.replace("postgresql+psycopg2://", "postgresql://")
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
