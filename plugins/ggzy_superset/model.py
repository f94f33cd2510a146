"""The vocabulary of the dashboards-as-code spec: datasets on marts, their metrics and
calculated columns, charts, filters and dashboards (spec*.py state them; author.py writes
them as Superset's export YAML). Stable uuid5 ids: a re-run of the author is a no-op diff."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

NS = uuid.UUID("6f1c2a0e-6d0b-5b7e-9a43-2c5d7f0e9a11")
DB_UUID = str(uuid.uuid5(NS, "database:ggzy_warehouse"))


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
