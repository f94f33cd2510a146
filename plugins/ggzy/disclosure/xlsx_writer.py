"""Writing an .xlsx of one worksheet in one streamed pass, straight to the file's XML parts:
the counterpart of xlsx_reader.py. openpyxl built a cell object per value and serialised it
through a pure-Python XML writer, about 30 us of CPU a cell: the night's month of
tender_results cost a second at scale 1 and most of the publication at scale 16. The parts
are the ones openpyxl's write-only workbook wrote (inline strings, the same styles), so a
file holds the same cells as before; they carry no timestamps, so the same rows make the
same bytes.

Cells: text as inline strings, with Excel's quote prefix where a spreadsheet would run it
(ggzy.spreadsheet; never a formula); int, float as numbers; date and datetime (naive) as
Excel serial numbers with a date format; None, "", NaN and infinity as no cell.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from ggzy import spreadsheet

# what XML 1.0 cannot hold (openpyxl refused these cells too)
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_TEXT = 32767  # Excel's longest cell text (openpyxl cut longer text there)
EPOCH = dt.datetime(1899, 12, 30)  # Excel's day 0 (Windows, 1900 date system)

# cellXfs below: the style id of each kind of cell
PLAIN, BOLD, QUOTED = 0, 1, 2
NUMBER_FORMATS = {"yyyy-mm-dd": 3, "yyyy-mm-dd hh:mm:ss": 4}
_FORMAT_ID = {f: 164 + k for k, f in enumerate(NUMBER_FORMATS)}  # ids below 164 are Excel's own

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_CT = "application/vnd.openxmlformats-"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_CONTENT_TYPES = (
    f'<Types xmlns="{_PKG}/content-types">'
    f'<Default Extension="rels" ContentType="{_CT}package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}officedocument.spreadsheetml.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}officedocument.spreadsheetml.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_CT}officedocument.spreadsheetml.styles+xml"/>'
    f'<Override PartName="/docProps/core.xml" ContentType="{_CT}package.core-properties+xml"/>'
    f'<Override PartName="/docProps/app.xml" ContentType="{_CT}officedocument.extended-properties+xml"/>'
    "</Types>")
_ROOT_RELS = (
    f'<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    f'<Relationship Id="rId2" Type="{_PKG}/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>")
_WORKBOOK_RELS = (
    f'<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
    "</Relationships>")
_APP = ('<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>GGZY Watch</Application></Properties>")
_FONT = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
_STYLES = (
    f"<styleSheet {_NS}>"
    + f'<numFmts count="{len(NUMBER_FORMATS)}">'
    + "".join(f'<numFmt numFmtId="{n}" formatCode="{f}"/>' for f, n in _FORMAT_ID.items())
    + f'</numFmts><fonts count="2"><font>{_FONT}</font><font><b val="1"/>{_FONT}</font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    f'<cellXfs count="{3 + len(NUMBER_FORMATS)}">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
    + "".join(f'<xf numFmtId="{n}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
              for n in _FORMAT_ID.values())
    + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>")


def column_letter(i: int) -> str:
    """A, B, ..., Z, AA, ... for column index 0, 1, ..."""
    letters = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def serial(value: dt.date) -> int | float:
    """An Excel serial number (days since 1899-12-30; a datetime with its time as a fraction)."""
    if isinstance(value, dt.datetime):
        days = (value - EPOCH).days
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return days + seconds / 86400
    return (value - EPOCH.date()).days


def _text(ref: str, text: str, style: int) -> str:
    if ILLEGAL.search(text):
        raise ValueError(f"cell {ref}: a control character an .xlsx cannot hold")
    text = text[:MAX_TEXT]
    space = ' xml:space="preserve"' if text != text.strip() else ""
    s = f' s="{style}"' if style else ""
    if "&" in text or "<" in text or ">" in text:
        text = escape(text)
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _cell(ref: str, value: object, date_style: int | None) -> str:
    if isinstance(value, str):
        return _text(ref, value, QUOTED if spreadsheet.formula_risk(value) else PLAIN)
    if isinstance(value, dt.date):
        style = date_style or NUMBER_FORMATS["yyyy-mm-dd hh:mm:ss" if isinstance(value, dt.datetime) else "yyyy-mm-dd"]
        return f'<c r="{ref}" s="{style}" t="n"><v>{serial(value):.16g}</v></c>'
    if isinstance(value, float) and not math.isfinite(value):
        return ""  # NaN, infinity: no number a cell holds (openpyxl wrote them empty)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<c r="{ref}" t="n"><v>{value:.16g}</v></c>'
    raise TypeError(f"cell {ref}: {type(value).__name__} is not a value an .xlsx cell takes here")


def write_xlsx(path: Path, title: str, sheet: str, headers: Sequence[str], widths: Sequence[float],
               rows: Iterable[Sequence[object]], formats: dict[int, str] | None = None) -> None:
    """One worksheet named `sheet`: the headers in bold, frozen, then `rows` (streamed: the
    file is never held in memory). `formats`: Excel number format by column index, one of
    NUMBER_FORMATS (dates). `title`: the document's title."""
    letters = [column_letter(i) for i in range(len(headers))]
    styles = {i: NUMBER_FORMATS[f] for i, f in (formats or {}).items()}
    cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{w:g}" customWidth="1"/>' for i, w in enumerate(widths))
    cols = f"<cols>{cols}</cols>" if cols else ""  # the schema wants no empty <cols>
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        def part(name: str, xml: str) -> None:
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), _HEAD + xml, zipfile.ZIP_DEFLATED)

        part("[Content_Types].xml", _CONTENT_TYPES)
        part("_rels/.rels", _ROOT_RELS)
        part("docProps/app.xml", _APP)
        part("docProps/core.xml",
             '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
             f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{escape(title)}</dc:title></cp:coreProperties>')
        part("xl/workbook.xml",
             f'<workbook {_NS} xmlns:r="{_REL}"><bookViews><workbookView/></bookViews>'
             f'<sheets><sheet name={quoteattr(sheet)} sheetId="1" r:id="rId1"/></sheets></workbook>')
        part("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        part("xl/styles.xml", _STYLES)
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", (1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as fh:
            head = "".join(_text(f"{letters[i]}1", h, BOLD) for i, h in enumerate(headers))
            fh.write((f'{_HEAD}<worksheet {_NS}><sheetViews><sheetView workbookViewId="0">'
                      '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                      '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
                      f'<sheetFormatPr defaultRowHeight="15"/>{cols}'
                      f'<sheetData><row r="1">{head}</row>').encode())
            chunk: list[str] = []
            for r, row in enumerate(rows, start=2):
                cells = "".join(_cell(f"{letters[i]}{r}", v, styles.get(i))
                                for i, v in enumerate(row) if v is not None and v != "")
                chunk.append(f'<row r="{r}">{cells}</row>')
                if len(chunk) == 1000:
                    fh.write("".join(chunk).encode())
                    chunk.clear()
            fh.write(("".join(chunk) + '</sheetData><pageMargins left="0.75" right="0.75" top="1" bottom="1" '
                      'header="0.5" footer="0.5"/></worksheet>').encode())
