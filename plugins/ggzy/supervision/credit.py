"""Credit records going out (Xuan'en 三（四）): the records of marts.fct_bad_conduct_records
(case decisions with their score) exported for the provincial credit system, and credit
repairs (信用修复) reported by the departments, which withdraw the public notice.

Export format (docs/supervision.md): UTF-8 CSV with a header row, one record per line,
columns EXPORT_COLUMNS; the file's sha256 and row count are kept in ops.credit_exports.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from ggzy import db, spreadsheet
from ggzy.supervision import SupervisionError, require_actor

# The provincial system's fields, in order: (column in the file, column of the mart)
EXPORT_COLUMNS = (
    ("record_id", "record_id"),
    ("decision_no", "decision_no"),
    ("subject_type", "subject_type"),
    ("subject_id", "subject_id"),
    ("subject_name", "subject_name"),
    ("violation_code", "violation"),
    ("violation_name", "violation_zh"),
    ("score", "score"),
    ("penalty", "penalty"),
    ("decided_by", "decided_by"),
    ("decided_by_name", "decided_by_name"),
    ("decided_on", "decided_on"),
    ("publish_until", "publish_until"),
    ("notice_status", "notice_status"),
    ("credit_repaired_on", "credit_repaired_on"),
)


def export(out: Path, by: str, url: str | None = None) -> dict[str, Any]:
    """Write every credit record to `out` (CSV) and record the export."""
    by = require_actor(by)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with db.connect(url) as conn:
        if conn.execute("select to_regclass('marts.fct_bad_conduct_records')").fetchone()[0] is None:
            raise SupervisionError("marts.fct_bad_conduct_records is not built yet: run `ggzy dbt build` first")
        cur = conn.execute(f"select {', '.join(m for _, m in EXPORT_COLUMNS)} from marts.fct_bad_conduct_records "
                           "order by decided_on, record_id")
        n = 0
        with out.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow([c for c, _ in EXPORT_COLUMNS])
            for row in cur:
                w.writerow(spreadsheet.csv_cells(row))  # no cell a spreadsheet would run
                n += 1
        digest = hashlib.sha256(out.read_bytes()).hexdigest()
        conn.execute("insert into ops.credit_exports (file_name, n_records, sha256, exported_by) values (%s, %s, %s, %s)",
                     (out.name, n, digest, by))
    return {"file": str(out), "records": n, "sha256": digest}


def repair(record_id: str, repaired_on: dt.date, approved_by: str, by: str, note: str | None = None,
           url: str | None = None) -> str:
    """Record a credit repair granted by a department; the notice is withdrawn on the next build."""
    by = require_actor(by)
    with db.transaction(url) as conn:
        row = conn.execute("select decided_on, is_repairable, violation_zh from marts.fct_bad_conduct_records"
                           " where record_id = %s", (record_id,)).fetchone() if conn.execute(
            "select to_regclass('marts.fct_bad_conduct_records')").fetchone()[0] else None
        if row is None:
            raise SupervisionError(f"no credit record {record_id!r} (marts.fct_bad_conduct_records)")
        if not row[1]:
            raise SupervisionError(
                f"{record_id} ({row[2]}) cannot be repaired: 信用修复 is for 一般违纪违规行为 only"
                " (宣政办函〔2021〕14号 三（四）; seeds/credit_scoring.csv repairable)")
        if repaired_on < row[0]:
            raise SupervisionError(f"{record_id} was decided on {row[0]}: a repair of {repaired_on} precedes it")
        if not conn.execute("select 1 from reference.departments where code = %s", (approved_by,)).fetchone():
            raise SupervisionError(f"unknown department {approved_by!r}")
        n = conn.execute("""insert into ops.credit_repairs (record_id, repaired_on, approved_by, note, recorded_by)
                            values (%s, %s, %s, %s, %s) on conflict (record_id) do nothing""",
                         (record_id, repaired_on, approved_by, note, by)).rowcount
        if not n:
            raise SupervisionError(f"a credit repair of {record_id} is already recorded")
    return record_id
