"""The joint meeting's report (大数据分析报告): a Chinese PDF for a month, quarter,
half-year or year, every figure read from a mart and named with it, archived with its
inputs and sha256 in ops.reports.

    period.py    2026-11 | 2026-Q4 | 2026-H2 | 2026, and the period before
    query.py     reading the marts for a period (figures = value now and before)
    sections.py  the sections in order (overview here; supervision.py, market.py)
    model.py     Figure / Table / Chart / Section and the generated text
    charts.py    matplotlib in a CJK font, deterministic PNG
    render.py    Jinja2 + WeasyPrint, deterministic PDF
    archive.py   $GGZY_HOME/reports/ and ops.reports
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ggzy import db
from ggzy.report.period import Period, PeriodError, parse

__all__ = ["Issued", "Period", "PeriodError", "issue", "parse"]


@dataclass
class Issued:
    report_id: int
    period: Period
    path: object
    sha256: str
    content_sha256: str
    pages: int
    bytes: int
    sections: list  # the Section objects, with every figure as printed
    seconds: float


def issue(period: Period | str, *, issued_by: str = "ggzy report", issued_at: dt.datetime | None = None,
          run_id: str | None = None, url: str | None = None) -> Issued:
    """Build, render and archive the report of `period`; returns where it is and what it says."""
    import time

    from ggzy.report import archive, charts, render, sections

    t0 = time.perf_counter()
    p = parse(period) if isinstance(period, str) else period
    charts.cjk_family()  # fail before any work when no Chinese font is installed
    issued_at = (issued_at or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    with db.connect(url) as conn:
        as_of = conn.execute("select max(as_of_date) from marts.fct_closed_loop").fetchone()[0]
        built = sections.build(conn, p)
        content = archive.content_sha256(built, p, as_of)
        doc = render.html(built, p, as_of_date=as_of, issued_at=issued_at, issued_by=issued_by,
                          content_sha256=content)
        pdf, pages = render.pdf(doc, content)
        with conn.transaction():
            row = archive.store(conn, period=p, as_of_date=as_of, issued_at=issued_at, issued_by=issued_by, pdf=pdf,
                                pages=pages, content=content, sections=built, run_id=run_id)
    return Issued(row["report_id"], p, row["path"], row["sha256"], content, pages, row["bytes"], built,
                  time.perf_counter() - t0)
