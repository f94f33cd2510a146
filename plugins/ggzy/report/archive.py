"""The archive of issued reports: the PDF under $GGZY_HOME/reports/<period>/ and its row
in ops.reports (append-only, plugins/ggzy/sql/065_reports.sql)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

from psycopg.types.json import Jsonb

from ggzy import config
from ggzy.checksum import table_checksum
from ggzy.report.model import Section
from ggzy.report.period import Period


def reports_dir() -> Path:
    return config.home() / "reports"


def figures_json(sections: list[Section]) -> list[dict]:
    """Every printed figure, with its mart: what the report says, in a comparable form."""
    def num(v):
        return str(v) if isinstance(v, Decimal) else v

    return [{"section": s.key, "key": f.key, "label": f.label, "value": num(f.value), "previous": num(f.previous),
             "unit": f.unit, "mart": f.mart} for s in sections for f in s.figures]


def content_sha256(sections: list[Section], period: Period, as_of_date: dt.date | None) -> str:
    """sha256 of everything printed except the issue time: figures, tables and charts."""
    h = hashlib.sha256()
    h.update(json.dumps({"period": period.key, "as_of": str(as_of_date), "figures": figures_json(sections)},
                        ensure_ascii=False, sort_keys=True).encode())
    for s in sections:
        for t in s.tables:
            h.update(json.dumps([t.title, t.mart, t.columns, t.rows], ensure_ascii=False).encode())
        for c in s.charts:
            h.update(c.title.encode() + c.mart.encode() + hashlib.sha256(c.png).digest())
    return h.hexdigest()


def inputs(conn, sections: list[Section]) -> dict[str, dict]:
    """Rows and md5 of each mart the report read (ggzy.checksum, the idempotency check's own sums)."""
    out = {}
    for mart in sorted({m for s in sections for m in s.marts}):
        schema, table = mart.split(".", 1)
        n, md5 = table_checksum(conn, schema, table)
        out[mart] = {"rows": n, "md5": md5}
    return out


def store(conn, *, period: Period, as_of_date: dt.date | None, issued_at: dt.datetime, issued_by: str,
          pdf: bytes, pages: int, content: str, sections: list[Section], run_id: str | None) -> dict:
    """Write the PDF (never over an earlier one) and its ops.reports row; returns the row."""
    report_id = conn.execute("select nextval(pg_get_serial_sequence('ops.reports', 'report_id'))").fetchone()[0]
    sha = hashlib.sha256(pdf).hexdigest()
    folder = reports_dir() / period.key
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"ggzy-report-{period.key}-{report_id:05d}-{sha[:12]}.pdf"
    with open(path, "xb") as fh:  # x: an archived report is never overwritten
        fh.write(pdf)
    conn.execute(
        """insert into ops.reports (report_id, period, period_kind, period_start, period_end, as_of_date, issued_at,
                                    issued_by, pdf_path, pdf_sha256, pdf_bytes, pages, content_sha256, inputs,
                                    figures, run_id)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (report_id, period.key, period.kind, period.start, period.end, as_of_date, issued_at, issued_by, str(path),
         sha, len(pdf), pages, content, Jsonb(inputs(conn, sections)), Jsonb(figures_json(sections)), run_id))
    return {"report_id": report_id, "path": path, "sha256": sha, "bytes": len(pdf), "pages": pages,
            "content_sha256": content}
