"""Special inspections (专项检查, Xuan'en 一, Yunnan 2020 (十)): campaigns with a scope, the
departments taking part, a period, targets and findings. A finding that is a problem
becomes a problem clue (ggzy.supervision.clues.register_clues), verified jointly by the
campaign's departments.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import psycopg

from ggzy import db
from ggzy.supervision import SupervisionError, require_actor

TARGET_TYPES = ("tender", "entity", "expert", "project")
# columns an import file must have (docs/supervision.md); departments and the finding columns may be absent
IMPORT_COLUMNS = ("inspection_id", "title", "scope", "lead_department", "period_start", "period_end", "target_type",
                  "target_id")


def _departments(conn, codes: list[str]) -> None:
    known = {r[0] for r in conn.execute("select code from reference.departments where code = any(%s)", (codes,))}
    if missing := [c for c in codes if c not in known]:
        raise SupervisionError(f"unknown department(s): {', '.join(missing)}")


def create(inspection_id: str, title: str, scope: str, lead_department: str, departments: list[str],
           period_start: dt.date, period_end: dt.date, by: str, url: str | None = None) -> str:
    by = require_actor(by)
    if period_end < period_start:
        raise SupervisionError(f"period ends ({period_end}) before it starts ({period_start})")
    if not title.strip() or not scope.strip():
        raise SupervisionError("a special inspection needs a title and a scope")
    depts = list(dict.fromkeys([lead_department, *departments]))
    with db.transaction(url) as conn:
        _departments(conn, depts)
        try:
            with conn.transaction():
                conn.execute(
                    """insert into ops.special_inspections (inspection_id, title, scope, lead_department, departments,
                           period_start, period_end, created_by) values (%s, %s, %s, %s, %s, %s, %s, %s)""",
                    (inspection_id, title.strip(), scope.strip(), lead_department, depts, period_start, period_end, by))
        except psycopg.errors.UniqueViolation as exc:
            raise SupervisionError(f"special inspection {inspection_id} exists already") from exc
    return inspection_id


def _campaign(conn, inspection_id: str) -> tuple[dt.date, dt.date]:
    row = conn.execute("select period_start, period_end from ops.special_inspections where inspection_id = %s",
                       (inspection_id,)).fetchone()
    if not row:
        raise SupervisionError(f"no special inspection {inspection_id!r}")
    return row


def add_target(inspection_id: str, target_type: str, target_id: str, by: str, url: str | None = None) -> bool:
    """Add a target; False if it was one already."""
    by = require_actor(by)
    if target_type not in TARGET_TYPES:
        raise SupervisionError(f"target type {target_type!r}: one of {', '.join(TARGET_TYPES)}")
    with db.transaction(url) as conn:
        _campaign(conn, inspection_id)
        return bool(conn.execute(
            """insert into ops.special_inspection_targets (inspection_id, target_type, target_id, added_by)
               values (%s, %s, %s, %s) on conflict do nothing""",
            (inspection_id, target_type, target_id.strip(), by)).rowcount)


def record_finding(inspection_id: str, target_type: str, target_id: str, found_on: dt.date, finding: str,
                   is_problem: bool, by: str, legal_basis: str | None = None, url: str | None = None) -> int:
    by = require_actor(by)
    if not finding.strip():
        raise SupervisionError("the finding is empty")
    with db.transaction(url) as conn:
        start, end = _campaign(conn, inspection_id)
        if not start <= found_on <= end:
            raise SupervisionError(f"{inspection_id} runs {start} .. {end}: a finding of {found_on} is outside it")
        if not conn.execute("""select 1 from ops.special_inspection_targets
                               where inspection_id = %s and target_type = %s and target_id = %s""",
                            (inspection_id, target_type, target_id)).fetchone():
            raise SupervisionError(f"{target_type} {target_id} is not a target of {inspection_id} (add it first)")
        (fid,) = conn.execute(
            """insert into ops.special_inspection_findings (inspection_id, target_type, target_id, found_on, finding,
                   legal_basis, is_problem, recorded_by) values (%s, %s, %s, %s, %s, %s, %s, %s) returning finding_id""",
            (inspection_id, target_type, target_id, found_on, finding.strip(), legal_basis, is_problem, by)).fetchone()
    return fid


def import_csv(path: Path, by: str, url: str | None = None) -> dict[str, int]:
    """Campaigns, targets and findings from one CSV (format in docs/supervision.md), one row
    per target: campaign columns repeat; finding columns may be empty. Rows already recorded
    are skipped, so importing the same file twice changes nothing. Errors name the line."""
    counts = {"campaigns": 0, "targets": 0, "findings": 0}
    with db.connect(url) as conn:
        known = {r[0] for r in conn.execute("select inspection_id from ops.special_inspections")}
    try:
        _import_rows(path, by, url, known, counts)
    except (UnicodeDecodeError, csv.Error) as exc:  # the file itself is unreadable, not one row
        raise SupervisionError(f"{path}: not a UTF-8 CSV file ({exc})") from exc
    return counts


def _import_rows(path: Path, by: str, url: str | None, known: set[str], counts: dict[str, int]) -> None:
    with Path(path).open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if missing := [c for c in IMPORT_COLUMNS if c not in (reader.fieldnames or [])]:
            raise SupervisionError(f"{path}, line 1: missing column(s) {', '.join(missing)}")
        for line, row in enumerate(reader, start=2):
            try:
                if row["inspection_id"] not in known:
                    create(row["inspection_id"], row["title"], row["scope"], row["lead_department"],
                           [d for d in (row.get("departments") or "").split(";") if d],
                           dt.date.fromisoformat(row["period_start"]), dt.date.fromisoformat(row["period_end"]),
                           by, url)
                    known.add(row["inspection_id"])
                    counts["campaigns"] += 1
                counts["targets"] += add_target(row["inspection_id"], row["target_type"], row["target_id"], by, url)
                if (row.get("finding") or "").strip():
                    with db.connect(url) as conn:
                        seen = conn.execute(
                            """select 1 from ops.special_inspection_findings where inspection_id = %s
                               and target_type = %s and target_id = %s and finding = %s""",
                            (row["inspection_id"], row["target_type"], row["target_id"], row["finding"].strip())).fetchone()
                    if not seen:
                        record_finding(row["inspection_id"], row["target_type"], row["target_id"],
                                       dt.date.fromisoformat(row["found_on"]), row["finding"],
                                       (row.get("is_problem") or "").strip().lower() in ("true", "1", "yes", "是"), by,
                                       row.get("legal_basis") or None, url)
                        counts["findings"] += 1
            except (SupervisionError, KeyError, ValueError, TypeError) as exc:
                raise SupervisionError(f"{path}, line {line}: {exc}") from exc


def summary(url: str | None = None) -> list[dict[str, Any]]:
    with db.connect(url) as conn:
        cur = conn.execute(
            """select s.inspection_id, s.title, s.period_start, s.period_end, s.lead_department,
                      (select count(*) from ops.special_inspection_targets t where t.inspection_id = s.inspection_id) as targets,
                      (select count(*) from ops.special_inspection_findings f where f.inspection_id = s.inspection_id) as findings,
                      (select count(*) from ops.special_inspection_findings f
                       where f.inspection_id = s.inspection_id and f.is_problem) as problems
               from ops.special_inspections s order by s.period_start desc, s.inspection_id""")
        cols = [d.name for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
