"""Cells that a spreadsheet cannot run (formula injection, OWASP "CSV Injection").

A tender name `=HYPERLINK(...)` passed load, dbt, the gate and publication and became a
live formula in the public tender_results.xlsx and .csv. Spreadsheets run a text cell
that starts with `=`, `+`, `-` or `@` (and, through DDE, one that starts with a tab or a
line break), so every file written for people goes through here:
- CSV: such a cell gets a leading apostrophe, the remedy OWASP gives (the csv module
  already quotes the cell and doubles its quotes);
- XLSX: such a cell is written as a string with Excel's quote prefix (what a user who
  types an apostrophe gets): it shows the text exactly and stays text when edited; no
  cell is ever written as a formula.
Only text is escaped: a number such as -12.5 stays a number.
"""

from __future__ import annotations

# Full-width forms too: CJK input methods type them and some spreadsheets normalise them.
FORMULA_START = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
# Excel skips leading blanks before a formula; so must the check.
_LEADING_BLANKS = " \u3000"


def formula_risk(text: str) -> bool:
    """Would a spreadsheet treat this text cell as a formula (or a DDE command)?"""
    if text[:1] in FORMULA_START:
        return True
    stripped = text.lstrip(_LEADING_BLANKS)
    return stripped != text and stripped[:1] in FORMULA_START


def neutralise_text(text: str) -> str:
    """The text of a CSV cell: an apostrophe first where a spreadsheet would run it."""
    return "'" + text if formula_risk(text) else text


def csv_cells(values) -> list:
    """A CSV row as it may be written for people: None as empty, text neutralised, numbers
    and dates as they are."""
    return ["" if v is None else neutralise_text(v) if isinstance(v, str) else v for v in values]
