"""Draws in the warehouse: seed commitments, snapshots, immutable draw records,
verification and inspection results.

Everything a draw reads comes from the warehouse (reference seeds, marts) and goes
into the snapshot; everything it writes goes to `sampling.*` in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ggzy import db
from ggzy.sampling import ALGORITHM_VERSION
from ggzy.sampling.draw import DrawResult, canonical_json, run_draw, sha256_text, snapshot_document
from ggzy.sampling.plans import is_due, parse_period
from ggzy.sampling.workdays import add_workdays

DRAW_LOCK = 74290006  # serialises draws: each reads the previous ones (avoidance, load)


class DrawRefused(RuntimeError):
    """The draw may not be made (no commitment, wrong seed, plan not due ...)."""


def seed_sha256(seed: str) -> str:
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


def draw_id_for(plan_id: str, period: str) -> str:
    return f"{plan_id}-{period}"


# --- seed commitment -----------------------------------------------------------------

def commit_seed(plan_id: str, period: str, *, seed: str | None = None, digest: str | None = None,
                url: str | None = None) -> dict[str, Any]:
    """Register sha256(seed) for (plan, period) before the draw. With `seed`, the seed is
    escrowed for the scheduled draw; with `digest` only, the office keeps it offline."""
    parse_period(period)
    if (seed is None) == (digest is None):
        raise ValueError("give either the seed or its sha256")
    digest = (digest or seed_sha256(seed or "")).lower()
    with db.transaction(url) as conn:
        conn.row_factory = dict_row
        if not conn.execute("select 1 from reference.sampling_plan where plan_id = %s", (plan_id,)).fetchone():
            raise DrawRefused(f"unknown plan {plan_id!r} (reference.sampling_plan; run `ggzy dbt seed`)")
        existing = conn.execute(
            "select * from sampling.seed_commitments where plan_id = %s and period = %s", (plan_id, period)
        ).fetchone()
        if existing:
            raise DrawRefused(
                f"a seed is already committed for {plan_id} {period} at {existing['committed_at']} "
                f"(sha256 {existing['seed_sha256']}); commitments cannot be changed"
            )
        row = conn.execute(
            "insert into sampling.seed_commitments (plan_id, period, seed_sha256) values (%s, %s, %s) returning *",
            (plan_id, period, digest),
        ).fetchone()
        if seed is not None:
            conn.execute(
                "insert into sampling.seed_escrow (plan_id, period, seed) values (%s, %s, %s)", (plan_id, period, seed)
            )
    return row


# --- snapshot ------------------------------------------------------------------------

def load_plan(conn: psycopg.Connection, plan_id: str) -> dict[str, Any]:
    plan = conn.execute("select * from reference.sampling_plan where plan_id = %s", (plan_id,)).fetchone()
    if not plan:
        raise DrawRefused(f"unknown plan {plan_id!r} (reference.sampling_plan; run `ggzy dbt seed`)")
    return dict(plan)


def build_snapshot(conn: psycopg.Connection, plan_id: str, period: str) -> dict[str, Any]:
    plan = load_plan(conn, plan_id)
    objects = conn.execute(
        """select object_type, object_id, object_name, category, industry, region_code, prefecture_code,
                  responsible_department_kind, related_entity_ids, risk_level, risk_score, credit_level,
                  as_of_date
           from marts.dim_inspection_objects where object_type = %s""",
        (plan["object_type"],),
    ).fetchall()
    inspectors = conn.execute(
        """select i.inspector_id, i.department_code, d.kind as department_kind, i.region_code,
                  i.specialties, i.active, coalesce(i.law_enforcement_cert, '') <> '' as certified
           from reference.inspectors as i
           left join reference.departments as d on d.code = i.department_code"""
    ).fetchall()
    unknown = [i["inspector_id"] for i in inspectors if i["department_kind"] is None]
    if unknown:
        raise DrawRefused(f"inspectors with a department not in reference.departments: {unknown}")
    conflicts = conn.execute("select inspector_id, entity_id from reference.inspector_conflicts").fetchall()
    previous = conn.execute(
        """with last_draw as (
               select distinct on (o.object_type, o.object_id) o.object_type, o.object_id, o.draw_id
               from sampling.draw_objects as o
               inner join sampling.draws as d on d.draw_id = o.draw_id
               where o.object_type = %s
               order by o.object_type, o.object_id, d.created_at desc, d.draw_id desc
           )
           select l.object_type, l.object_id, i.inspector_id, l.draw_id
           from last_draw as l
           inner join sampling.draw_inspectors as i
               on i.draw_id = l.draw_id and i.object_type = l.object_type and i.object_id = l.object_id""",
        (plan["object_type"],),
    ).fetchall()
    prior_load = conn.execute(
        """select i.inspector_id, count(*)::int as assignments
           from sampling.draw_inspectors as i
           inner join sampling.draws as d on d.draw_id = i.draw_id
           where d.period = %s
           group by i.inspector_id""",
        (period,),
    ).fetchall()
    as_of = max((o["as_of_date"] for o in objects if o["as_of_date"]), default=None)
    return snapshot_document(
        plan=plan, period=period, as_of_date=as_of.isoformat() if as_of else None, objects=objects,
        inspectors=inspectors, conflicts=conflicts, previous=previous, prior_load=prior_load,
    )


# --- draw ----------------------------------------------------------------------------

@dataclass
class DrawOutcome:
    draw_id: str
    created: bool
    inputs_hash: str
    result_hash: str
    population: int
    selected: int
    result: DrawResult | None = None


def perform_draw(plan_id: str, period: str, seed: str | None = None, *, url: str | None = None,
                 require_due: bool = True) -> DrawOutcome:
    """Make the draw of (plan, period), or return it if it was already made (idempotent)."""
    parse_period(period)
    draw_id = draw_id_for(plan_id, period)
    with db.transaction(url) as conn:
        conn.row_factory = dict_row
        conn.execute("select pg_advisory_xact_lock(%s)", (DRAW_LOCK,))
        existing = conn.execute("select * from sampling.draws where draw_id = %s", (draw_id,)).fetchone()
        if existing:
            if seed is not None and seed_sha256(seed) != existing["seed_sha256"]:
                raise DrawRefused(f"{draw_id} was already drawn with another seed; a period is drawn once")
            return DrawOutcome(draw_id, False, existing["inputs_hash"], existing["result_hash"],
                               existing["population"], existing["selected"])
        plan = load_plan(conn, plan_id)
        if require_due and not is_due(plan, period):
            raise DrawRefused(f"plan {plan_id} ({plan['period']}, active={plan['active']}) has no draw in {period}")
        commitment = conn.execute(
            "select * from sampling.seed_commitments where plan_id = %s and period = %s", (plan_id, period)
        ).fetchone()
        if not commitment:
            raise DrawRefused(
                f"no seed committed for {plan_id} {period}: register it first "
                f"(`ggzy draw seed-commit --plan {plan_id} --period {period}`)"
            )
        if seed is None:
            escrow = conn.execute(
                "select seed from sampling.seed_escrow where plan_id = %s and period = %s", (plan_id, period)
            ).fetchone()
            if not escrow:
                raise DrawRefused(f"{plan_id} {period}: the seed was committed by hash only; pass --seed")
            seed = escrow["seed"]
        if seed_sha256(seed) != commitment["seed_sha256"]:
            raise DrawRefused(f"{plan_id} {period}: sha256(seed) does not match the commitment of "
                              f"{commitment['committed_at']}")
        snapshot = build_snapshot(conn, plan_id, period)
        content = canonical_json(snapshot)
        inputs_hash = sha256_text(content)
        result = run_draw(snapshot, seed)
        conn.execute(
            "insert into sampling.snapshots (inputs_hash, content) values (%s, %s) on conflict do nothing",
            (inputs_hash, content),
        )
        population = sum(s["population"] for s in result.strata)
        conn.execute(
            """insert into sampling.draws (draw_id, plan_id, period, seed, seed_sha256, committed_at, inputs_hash,
                   algorithm_version, as_of_date, population, selected, result_hash)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (draw_id, plan_id, period, seed, commitment["seed_sha256"], commitment["committed_at"], inputs_hash,
             result.algorithm_version, snapshot["as_of_date"], population, len(result.objects), result.result_hash),
        )
        with conn.cursor() as cur:
            cur.executemany(
                "insert into sampling.draw_strata values (%s, %s, %s, %s, %s)",
                [(draw_id, s["stratum"], s["population"], s["weight_sum"], s["planned_size"]) for s in result.strata],
            )
            cur.executemany(
                """insert into sampling.draw_objects (draw_id, object_type, object_id, stratum, rank_in_stratum, weight,
                       u, es_key, inclusion_probability, risk_level, credit_level)
                   values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                [(draw_id, o["object_type"], o["object_id"], o["stratum"], o["rank_in_stratum"], o["weight"], o["u"],
                  o["es_key"], o["inclusion_probability"], o["risk_level"], o["credit_level"]) for o in result.objects],
            )
            cur.executemany(
                """insert into sampling.draw_inspectors (draw_id, object_type, object_id, slot, role, inspector_id,
                       department_code, department_kind)
                   values (%s, %s, %s, %s, %s, %s, %s, %s)""",
                [(draw_id, a["object_type"], a["object_id"], a["slot"], a["role"], a["inspector_id"],
                  a["department_code"], a["department_kind"]) for a in result.inspectors],
            )
    return DrawOutcome(draw_id, True, inputs_hash, result.result_hash, population, len(result.objects), result)


# --- verify --------------------------------------------------------------------------

@dataclass
class Verification:
    draw_id: str
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(ok for _, ok, _ in self.checks)

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append((name, ok, detail))


def stored_result_hash(objects: list[dict[str, Any]], inspectors: list[dict[str, Any]], algorithm: str) -> str:
    """The result hash recomputed from the stored rows (detects edits to the result tables)."""
    objects = sorted(objects, key=lambda o: (o["stratum"], o["rank_in_stratum"]))
    order = {(o["object_type"], o["object_id"]): i for i, o in enumerate(objects)}
    inspectors = sorted(inspectors, key=lambda a: (order.get((a["object_type"], a["object_id"]), -1), a["slot"]))
    core = DrawResult(algorithm_version=algorithm, objects=objects, inspectors=inspectors)
    return core.result_hash


def verify(draw_id: str, *, url: str | None = None) -> Verification:
    """Re-derive a draw from its stored snapshot and seed; every check must pass."""
    report = Verification(draw_id)
    with db.connect(url) as conn:
        conn.row_factory = dict_row
        draw = conn.execute("select * from sampling.draws where draw_id = %s", (draw_id,)).fetchone()
        if not draw:
            report.add("draw exists", False, f"no draw {draw_id!r} in sampling.draws")
            return report
        report.add("draw exists", True, f"{draw['plan_id']} {draw['period']} created {draw['created_at']}")
        snap = conn.execute("select * from sampling.snapshots where inputs_hash = %s", (draw["inputs_hash"],)).fetchone()
        commitment = conn.execute(
            "select * from sampling.seed_commitments where plan_id = %s and period = %s",
            (draw["plan_id"], draw["period"]),
        ).fetchone()
        objects = conn.execute("select * from sampling.draw_objects where draw_id = %s", (draw_id,)).fetchall()
        inspectors = conn.execute("select * from sampling.draw_inspectors where draw_id = %s", (draw_id,)).fetchall()

    if not snap:
        report.add("snapshot stored", False, f"no snapshot {draw['inputs_hash']}")
        return report
    rehash = sha256_text(snap["content"])
    report.add("snapshot hash", rehash == draw["inputs_hash"],
               f"sha256(stored snapshot) = {rehash}, recorded {draw['inputs_hash']}")
    actual_seed_hash = seed_sha256(draw["seed"])
    committed = commitment["seed_sha256"] if commitment else None
    report.add("seed matches commitment", actual_seed_hash == draw["seed_sha256"] == committed,
               f"sha256(seed) = {actual_seed_hash}, committed {committed}")
    committed_at = commitment["committed_at"] if commitment else None
    report.add("seed committed before the draw",
               committed_at is not None and committed_at == draw["committed_at"] and committed_at < draw["created_at"],
               f"committed {committed_at}, drawn {draw['created_at']}")
    report.add("algorithm version known", draw["algorithm_version"] == ALGORITHM_VERSION,
               f"draw {draw['algorithm_version']}, this code {ALGORITHM_VERSION}")
    try:
        snapshot = json.loads(snap["content"])
    except ValueError as exc:
        report.add("snapshot readable", False, str(exc))
        return report
    same_subject = snapshot.get("plan", {}).get("plan_id") == draw["plan_id"] and snapshot.get("period") == draw["period"]
    report.add("snapshot is of this plan and period", same_subject,
               f"{snapshot.get('plan', {}).get('plan_id')} {snapshot.get('period')}")
    try:
        again = run_draw(snapshot, draw["seed"], with_probabilities=False)
        rederived = again.result_hash
        detail = f"re-derived {rederived}, recorded {draw['result_hash']}"
    except Exception as exc:  # a tampered snapshot may not even draw
        rederived, detail = None, f"re-derivation failed: {exc}"
    report.add("re-derived result matches", rederived == draw["result_hash"], detail)
    stored = stored_result_hash(objects, inspectors, draw["algorithm_version"])
    report.add("stored rows match result hash", stored == draw["result_hash"],
               f"rows hash {stored}, recorded {draw['result_hash']}")
    return report


# --- follow-up -----------------------------------------------------------------------

def record_result(draw_id: str, object_id: str, *, finding: str, outcome: str, inspected_on: dt.date,
                  published_on: dt.date | None = None, url: str | None = None) -> dict[str, Any]:
    """Append an inspection result; the publication due date is computed in working days."""
    with db.transaction(url) as conn:
        conn.row_factory = dict_row
        obj = conn.execute(
            """select o.object_type, s.content::jsonb -> 'plan' ->> 'publish_workdays' as publish_workdays
               from sampling.draw_objects as o
               inner join sampling.draws as d on d.draw_id = o.draw_id
               inner join sampling.snapshots as s on s.inputs_hash = d.inputs_hash
               where o.draw_id = %s and o.object_id = %s""",
            (draw_id, object_id),
        ).fetchone()
        if not obj:
            raise DrawRefused(f"{object_id} was not drawn in {draw_id}")
        due = add_workdays(inspected_on, int(obj["publish_workdays"] or 10))
        return conn.execute(
            """insert into sampling.inspection_results (draw_id, object_type, object_id, inspected_on, outcome,
                   finding, published_on, publication_due_on)
               values (%s, %s, %s, %s, %s, %s, %s, %s) returning *""",
            (draw_id, obj["object_type"], object_id, inspected_on, outcome, finding, published_on, due),
        ).fetchone()
