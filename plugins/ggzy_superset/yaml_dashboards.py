"""Superset's export YAML of each dashboard: the grid of rows and cells, and the native
filters (日期范围, 州市, …) scoped to the charts whose mart has their column."""

from __future__ import annotations

from typing import Any

from ggzy_superset.model import Chart, Dashboard, Dataset


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
