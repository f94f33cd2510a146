"""Superset's export YAML of the warehouse connection and of each dataset (a mart with its
Chinese labels, metrics and calculated columns; column types from information_schema)."""

from __future__ import annotations

from typing import Any

from ggzy_superset import settings
from ggzy_superset.bundle import PLACEHOLDER_URI
from ggzy_superset.model import DB_UUID, Dataset

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
