"""Write the dbt staging layer from the feed contract (run again when the contract changes).

    .venv/bin/python tools/gen_staging.py

Staging is mechanical (rename nothing, cast, newest version per key), so it is derived
from ggzy.feeds.contract rather than written by hand 14 times; the generated files are
committed and reviewed like any other model.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from ggzy.feeds import contract as c  # noqa: E402

CASTS = {
    c.DATE: "{col}::date",
    c.TIMESTAMP: "{col}::timestamptz",
    c.MONEY: "{col}::numeric(18, 2)",
    c.NUMBER: "{col}::numeric",
    c.INTEGER: "{col}::integer",
    c.BOOL: "{{{{ to_bool('{col}') }}}}",
    c.USCC: "upper(trim({col}))",
    c.ID_NO: "upper(trim({col}))",
    c.PARTY_ID: "upper(trim({col}))",
    c.REGION: "trim({col})",
}
FRESHNESS_FIELD = "_loaded_at"


def column_sql(col: c.Column) -> list[str]:
    if col.kind == c.PROJECT_CODE:
        return [
            f"{col.name} as project_code_raw",
            f"{{{{ normalize_project_code('{col.name}') }}}} as {col.name}",
        ]
    expr = CASTS.get(col.kind, "nullif(trim({col}), '')").format(col=col.name)
    return [f"{expr} as {col.name}"]


def model_sql(f: c.FeedFile) -> str:
    cols = [s for col in f.columns for s in column_sql(col)]
    order_version = f"{f.version_column} desc nulls last, " if f.version_column else ""
    key = ", ".join(f.key)
    key_order = ", ".join(f"{k} asc" for k in f.key)
    select_cols = ",\n        ".join(cols)
    return f"""-- grain: one row per {' x '.join(f.key)} (newest delivered version)
-- {f.description}; source raw.{f.table} ({f.name} of the {f.feed} feed)
with source as (

    select * from {{{{ source('{f.feed}', '{f.stem}') }}}}

),

typed as (

    select
        {select_cols},
        _batch_date as batch_date,
        _file as source_file,
        _line as source_line,
        _loaded_at as loaded_at,
        _extra as extra_columns
    from source

),

final as (

    select distinct on ({key}) *
    from typed
    order by {key_order}, {order_version}batch_date desc, source_line desc

)

select * from final
"""


def sources_yml(feed: str) -> str:
    lines = [
        "version: 2",
        "",
        "sources:",
        f"  - name: {feed}",
        "    schema: raw",
        f"    description: \"Raw {feed} feed: every delivered version, as text, with load metadata (_batch_date, _file, _line, _loaded_at, _extra).\"",
        f"    loaded_at_field: {FRESHNESS_FIELD}",
        "    freshness:",
        "      warn_after: {count: 36, period: hour}",
        "      error_after: {count: 84, period: hour}",
        "    tables:",
    ]
    for f in c.files_of(feed):
        lines += [f"      - name: {f.stem}", f"        identifier: {f.table}", f"        description: \"{f.description} ({f.name})\""]
    return "\n".join(lines) + "\n"


def models_yml(feed: str) -> str:
    lines = ["version: 2", "", "models:"]
    for f in c.files_of(feed):
        lines += [f"  - name: stg_{feed}__{f.stem}", f"    description: \"{f.description}: newest version per key.\""]
        if len(f.key) == 1:
            lines += ["    columns:", f"      - name: {f.key[0]}", "        data_tests: [unique, not_null]"]
        else:
            lines += [
                "    data_tests:",
                "      - unique_combination:",
                "          arguments:",
                f"            columns: [{', '.join(f.key)}]",
            ]
    return "\n".join(lines) + "\n"


def main() -> None:
    base = ROOT / "dbt_project" / "models" / "staging"
    for feed in c.FEEDS:
        d = base / feed
        d.mkdir(parents=True, exist_ok=True)
        (d / f"_{feed}__sources.yml").write_text(sources_yml(feed), encoding="utf-8")
        (d / f"_{feed}__models.yml").write_text(models_yml(feed), encoding="utf-8")
        for f in c.files_of(feed):
            (d / f"stg_{feed}__{f.stem}.sql").write_text(model_sql(f), encoding="utf-8")


if __name__ == "__main__":
    main()
