"""Precision and recall of the closed-loop (cl_*) and time-limit (tl_*) flags.

Compares what the marts flag with what the demo generator injected
(`<landing>/_ground_truth/anomalies.csv`):

- cl_* rule r: the tenders with column r true in marts.fct_closed_loop;
- tl_* rule r: the items of marts.fct_time_limits with rule_id = r and is_breach.

Used by tests/dbt/test_flags_against_ground_truth.py and by hand:

    .venv/bin/python tests/dbt/flag_eval.py --landing $GGZY_HOME/landing [--url URL]
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

CL_RULES = (
    "cl_no_approval", "cl_award_above_control", "cl_contract_deviation", "cl_start_before_award",
    "cl_settlement_overrun", "cl_stage_overdue", "cl_broken_link",
)
TL_RULES = ("tl_complaint_forward_late", "tl_complaint_answer_late", "tl_guest_notice_late", "tl_publicity_late")


@dataclass
class RuleScore:
    rule_id: str
    truth: set[str] = field(default_factory=set)
    flagged: set[str] = field(default_factory=set)

    @property
    def true_positives(self) -> int:
        return len(self.truth & self.flagged)

    @property
    def precision(self) -> float | None:
        return self.true_positives / len(self.flagged) if self.flagged else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / len(self.truth) if self.truth else None

    @property
    def missed(self) -> set[str]:
        return self.truth - self.flagged

    @property
    def extra(self) -> set[str]:
        return self.flagged - self.truth


def ground_truth(landing: Path) -> dict[str, set[str]]:
    truth: dict[str, set[str]] = {r: set() for r in CL_RULES + TL_RULES}
    with (landing / "_ground_truth" / "anomalies.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["rule_id"] in truth:
                truth[row["rule_id"]].add(row["subject_id"])
    return truth


def flagged(url: str) -> dict[str, set[str]]:
    import psycopg

    out: dict[str, set[str]] = {r: set() for r in CL_RULES + TL_RULES}
    with psycopg.connect(url) as conn:
        for rule in CL_RULES:  # rule ids are column names (constants above, not input)
            rows = conn.execute(f"select tender_id from marts.fct_closed_loop where {rule}").fetchall()
            out[rule] = {r[0] for r in rows}
        rows = conn.execute("select rule_id, item_id from marts.fct_time_limits where is_breach").fetchall()
        for rule_id, item_id in rows:
            out.setdefault(rule_id, set()).add(item_id)
    return out


def evaluate(url: str, landing: Path) -> dict[str, RuleScore]:
    truth = ground_truth(landing)
    found = flagged(url)
    return {r: RuleScore(r, truth.get(r, set()), found.get(r, set())) for r in CL_RULES + TL_RULES}


def report(scores: dict[str, RuleScore]) -> str:
    def fmt(x: float | None) -> str:
        return "   -" if x is None else f"{x:4.2f}"

    lines = [f"{'rule_id':28} {'truth':>6} {'flagged':>7} {'tp':>5} {'prec':>5} {'recall':>6}"]
    for s in scores.values():
        lines.append(
            f"{s.rule_id:28} {len(s.truth):6} {len(s.flagged):7} {s.true_positives:5} "
            f"{fmt(s.precision):>5} {fmt(s.recall):>6}"
        )
        for label, ids in (("missed", s.missed), ("extra", s.extra)):
            if ids:
                lines.append(f"    {label}: {', '.join(sorted(ids)[:8])}{' ...' if len(ids) > 8 else ''}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--landing", type=Path, required=True)
    ap.add_argument("--url", default=None, help="warehouse URL (default: the configured one)")
    args = ap.parse_args(argv)
    url = args.url
    if url is None:
        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins"))
        from ggzy import config

        url = config.warehouse_url()
    print(report(evaluate(url, args.landing)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
