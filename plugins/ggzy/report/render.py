"""HTML (Jinja2) -> PDF (WeasyPrint), deterministically.

The PDF's only time is the issue time, given by the caller: it is printed on the cover
and written as the document's creation date; the file identifier is derived from the
content. The same sections and issue time therefore give the same bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from importlib import resources

import jinja2

from ggzy.report.model import Section
from ggzy.report.period import Period

TITLE = "公共资源交易大数据分析报告"
ISSUER_ORG = "公共资源交易监督管理联合会商会议办公室"
NUMERALS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五"]
BEIJING = dt.timezone(dt.timedelta(hours=8))


def _template() -> tuple[jinja2.Template, str]:
    root = resources.files("ggzy.report") / "templates"
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             loader=jinja2.FunctionLoader(lambda name: (root / name).read_text(encoding="utf-8")))
    env.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")
    return env.get_template("report.html.j2"), (root / "report.css").read_text(encoding="utf-8")


def html(sections: list[Section], period: Period, *, as_of_date: dt.date | None, issued_at: dt.datetime,
         issued_by: str, content_sha256: str) -> str:
    template, css = _template()
    local = issued_at.astimezone(BEIJING)
    return template.render(
        title=TITLE, issuer_org=ISSUER_ORG, period=period, previous=period.previous(), sections=sections,
        numerals=NUMERALS, css=css, as_of_date=as_of_date, issued_by=issued_by, content_sha256=content_sha256,
        issued_at_iso=local.isoformat(timespec="seconds"),
        issued_at_text=f"{local:%Y-%m-%d %H:%M:%S}（北京时间）",
    )


def pdf(document_html: str, content_sha256: str) -> tuple[bytes, int]:
    """The PDF bytes and its number of pages."""
    from weasyprint import HTML

    document = HTML(string=document_html, base_url=".").render()
    data = document.write_pdf(pdf_identifier=hashlib.md5(content_sha256.encode()).hexdigest().encode(),
                              uncompressed_pdf=False)
    return data, len(document.pages)
