"""Superset's export YAML of each chart: `params` (what the browser renders) and
`query_context` (what `GET /api/v1/chart/{id}/data/` and `ggzy_superset.check` run)."""

from __future__ import annotations

import json
from typing import Any

from ggzy_superset.model import Chart, Dataset


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
