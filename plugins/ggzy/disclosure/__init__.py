"""Publication of the disclosure tables (信息公开) for the website, and the PII scan that
guards it.

The website gets files, not database access: every table of schema `disclosure` is
exported to CSV and XLSX with Chinese headers under $GGZY_EXPORT_DIR/<date>/, one file per
month for the tables that grow with time, with a manifest of sha256 sums. A night writes
only the files whose content changed; the others keep their bytes.

- tables.py: which tables, their headers, how each is cut into files, digests in SQL
- changes.py: which files a publication writes and which it keeps from the last one
- writer.py, xlsx_writer.py: CSV/XLSX writing (no cell a spreadsheet would run as a formula)
- pii.py, xlsx_reader.py: the scan for personal data in the rows written and in the files
- publication.py: gate and as-of checks, the atomic swap, `latest`, ops.publications
"""

from __future__ import annotations

from ggzy.disclosure.pii import (
    Finding,
    NameIndex,
    is_old_resident_id,
    is_resident_id,
    load_person_names,
    scan_file,
    scan_for_pii,
    scan_table,
    scan_value,
)
from ggzy.disclosure.publication import Publication, as_dict, gate_result, publish
from ggzy.disclosure.tables import (
    SCHEMA,
    Column,
    TableSpec,
    disclosure_relations,
    header_from_comment,
    table_specs,
)
from ggzy.disclosure.writer import sha256, write_table
from ggzy.disclosure.xlsx_reader import xlsx_rows

__all__ = [
    "SCHEMA", "Column", "Finding", "NameIndex", "Publication", "TableSpec", "as_dict", "disclosure_relations",
    "gate_result", "header_from_comment", "is_old_resident_id", "is_resident_id", "load_person_names", "publish",
    "scan_file", "scan_for_pii", "scan_table", "scan_value", "sha256", "table_specs", "write_table", "xlsx_rows",
]
