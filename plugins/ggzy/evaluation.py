"""Scoring the risk rules against the demo generator's ground truth (`ggzy eval`).

Why: a rule that nobody measured is an opinion. The generator plants each anomaly under a
rule id and lists it in `<landing>/_ground_truth/anomalies.csv`
(`rule_id,subject_type,subject_id,detail`); the warehouse's answer is
`marts.fct_risk_signals` (one row per rule x subject). Per rule we count true positives,
false positives and misses, and derive precision and recall; overall figures are
micro-averages over the rules the ground truth exercises.

The statistical screens (price screens, co-bidding ring, rotation) are also judged as
rankings, the way an analyst uses them: the AUC (Mann-Whitney) of the per-lot screen score
for the planted lots against the clean lots (lots with no planted anomaly at all), from
`marts.fct_tender_risk`. AUC 0.5 = no better than chance, 1.0 = every planted lot ranks
above every clean one.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ggzy import db

# Screen rule -> the per-lot score column of marts.fct_tender_risk that ranks lots for it.
SCREEN_SCORES: dict[str, str] = {
    "ps_price_screen": "price_screen_score",
    "net_cobid_ring": "cobid_score",
    "net_rotation": "rotation_score",
}

Key = tuple[str, str]  # (subject_type, subject_id)


@dataclass
class RuleScore:
    rule_id: str
    deterministic: bool | None
    in_catalogue: bool
    ground_truth: int = 0
    signals: int = 0
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    missed: list[str] = field(default_factory=list)      # a few subject ids, to start looking
    unexpected: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.signals if self.signals else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.ground_truth if self.ground_truth else None


@dataclass
class Evaluation:
    rules: list[RuleScore]
    auc: dict[str, float | None]
    auc_counts: dict[str, tuple[int, int]]
    overall_precision: float | None
    overall_recall: float | None
    deterministic_precision: float | None
    deterministic_recall: float | None

    def failures(self, min_recall: float | None, min_precision: float | None,
                 min_auc: float | None = None) -> list[str]:
        """What misses the targets: deterministic rules the ground truth exercises, and
        the screens' AUC."""
        out: list[str] = []
        for r in self.rules:
            if not r.deterministic or not r.ground_truth:
                continue
            if min_recall is not None and (r.recall or 0.0) < min_recall:
                out.append(f"{r.rule_id}: recall {_fmt(r.recall)} < {min_recall}")
            if min_precision is not None and r.precision is not None and r.precision < min_precision:
                out.append(f"{r.rule_id}: precision {_fmt(r.precision)} < {min_precision}")
        if min_auc is not None:
            for rule_id, auc in self.auc.items():
                if auc is not None and auc < min_auc:
                    out.append(f"{rule_id}: AUC {auc:.3f} < {min_auc}")
        return out

    def as_dict(self) -> dict:
        d = asdict(self)
        for r, src in zip(d["rules"], self.rules, strict=True):
            r["precision"], r["recall"] = src.precision, src.recall
        return d


def read_ground_truth(landing: Path) -> dict[str, set[Key]]:
    path = Path(landing) / "_ground_truth" / "anomalies.csv"
    if not path.exists():
        raise FileNotFoundError(f"no ground truth at {path} (run `ggzy generate` first)")
    truth: dict[str, set[Key]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            truth.setdefault(row["rule_id"].strip(), set()).add(
                (row["subject_type"].strip(), row["subject_id"].strip()))
    return truth


def _auc(positives: list[float], negatives: list[float]) -> float | None:
    """Mann-Whitney AUC with ties counted one half."""
    if not positives or not negatives:
        return None
    scored = sorted([(s, 1) for s in positives] + [(s, 0) for s in negatives])
    rank_sum = 0.0
    i = 0
    while i < len(scored):
        j = i
        while j < len(scored) and scored[j][0] == scored[i][0]:
            j += 1
        avg_rank = (i + 1 + j) / 2.0  # ranks i+1..j
        rank_sum += avg_rank * sum(1 for k in range(i, j) if scored[k][1] == 1)
        i = j
    n_pos, n_neg = len(positives), len(negatives)
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def evaluate(landing: Path, url: str | None = None) -> Evaluation:
    truth = read_ground_truth(landing)
    with db.connect(url) as conn:
        catalogue = {r[0]: r[1] for r in conn.execute(
            "select rule_id, deterministic from marts.dim_risk_rules")}
        signals: dict[str, set[Key]] = {}
        for rule_id, subject_type, subject_id in conn.execute(
                "select rule_id, subject_type, subject_id from marts.fct_risk_signals"):
            signals.setdefault(rule_id, set()).add((subject_type, subject_id))
        lot_scores = conn.execute(
            "select tender_id, " + ", ".join(SCREEN_SCORES.values()) + " from marts.fct_tender_risk"
        ).fetchall()

    rules: list[RuleScore] = []
    for rule_id in sorted(set(catalogue) | set(truth)):
        gt, found = truth.get(rule_id, set()), signals.get(rule_id, set())
        rs = RuleScore(rule_id, catalogue.get(rule_id), rule_id in catalogue,
                       ground_truth=len(gt), signals=len(found), true_positives=len(gt & found),
                       false_positives=len(found - gt), false_negatives=len(gt - found),
                       missed=sorted(s for _, s in gt - found)[:5],
                       unexpected=sorted(s for _, s in found - gt)[:5])
        rules.append(rs)

    def micro(selected: list[RuleScore]) -> tuple[float | None, float | None]:
        tp = sum(r.true_positives for r in selected)
        n_sig = sum(r.signals for r in selected)
        n_gt = sum(r.ground_truth for r in selected)
        return (tp / n_sig if n_sig else None, tp / n_gt if n_gt else None)

    exercised = [r for r in rules if r.ground_truth]
    overall_p, overall_r = micro(exercised)
    det_p, det_r = micro([r for r in exercised if r.deterministic])

    planted_lots = {sid for keys in truth.values() for (st, sid) in keys if st == "tender"}
    auc: dict[str, float | None] = {}
    auc_counts: dict[str, tuple[int, int]] = {}
    columns = list(SCREEN_SCORES)
    for idx, rule_id in enumerate(columns, start=1):
        positives_ids = {sid for (st, sid) in truth.get(rule_id, set()) if st == "tender"}
        pos = [float(row[idx] or 0.0) for row in lot_scores if row[0] in positives_ids]
        neg = [float(row[idx] or 0.0) for row in lot_scores if row[0] not in planted_lots]
        auc[rule_id] = _auc(pos, neg)
        auc_counts[rule_id] = (len(pos), len(neg))
    return Evaluation(rules, auc, auc_counts, overall_p, overall_r, det_p, det_r)


def _fmt(x: float | None) -> str:
    return "   -" if x is None else f"{x:.3f}"


def render(ev: Evaluation) -> str:
    lines = [f"{'rule_id':<30} {'kind':<6} {'truth':>6} {'signals':>8} {'tp':>5} {'fp':>5} {'fn':>5} "
             f"{'precision':>9} {'recall':>7}"]
    lines.append("-" * len(lines[0]))
    for r in ev.rules:
        kind = "det" if r.deterministic else ("screen" if r.in_catalogue else "??")
        lines.append(f"{r.rule_id:<30} {kind:<6} {r.ground_truth:>6} {r.signals:>8} {r.true_positives:>5} "
                     f"{r.false_positives:>5} {r.false_negatives:>5} {_fmt(r.precision):>9} {_fmt(r.recall):>7}")
    lines.append("-" * len(lines[0]))
    lines.append(f"overall (rules in the ground truth): precision {_fmt(ev.overall_precision)}  "
                 f"recall {_fmt(ev.overall_recall)}")
    lines.append(f"deterministic rules:                 precision {_fmt(ev.deterministic_precision)}  "
                 f"recall {_fmt(ev.deterministic_recall)}")
    lines.append("")
    lines.append("screens as rankings (AUC of planted lots vs clean lots):")
    for rule_id, value in ev.auc.items():
        n_pos, n_neg = ev.auc_counts[rule_id]
        shown = "   -" if value is None else f"{value:.3f}"
        lines.append(f"  {rule_id:<20} AUC {shown}  ({n_pos} planted, {n_neg} clean lots; "
                     f"score = fct_tender_risk.{SCREEN_SCORES[rule_id]})")
    not_in_catalogue = [r.rule_id for r in ev.rules if not r.in_catalogue]
    if not_in_catalogue:
        lines.append(f"ground-truth rule ids missing from the catalogue: {', '.join(not_in_catalogue)}")
    misses = [r for r in ev.rules if r.deterministic and (r.missed or r.unexpected)]
    if misses:
        lines.append("")
        lines.append("deterministic rules off target (first subjects, to look at):")
        for r in misses:
            if r.missed:
                lines.append(f"  {r.rule_id} missed: {', '.join(r.missed)}")
            if r.unexpected:
                lines.append(f"  {r.rule_id} not in the ground truth: {', '.join(r.unexpected)}")
    return "\n".join(lines)
