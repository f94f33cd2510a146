"""Scoring the risk rules against the demo generator's ground truth (`ggzy eval`).

Why: a rule that nobody measured is an opinion. The generator plants each anomaly under a
rule id and lists it in `<landing>/_ground_truth/anomalies.csv`
(`rule_id,subject_type,subject_id,detail`); the warehouse's answer is
`marts.fct_risk_signals` (one row per rule x subject). Per rule we count true positives,
false positives and misses, and derive precision and recall; overall figures are
micro-averages over the rules the ground truth exercises.

Alert volume (issue 15 item 8): the alert list a leader reads must be short enough to act
on. Over the lots of marts.fct_tender_risk: the share with any lot-level signal
(subject_type = 'tender') and with a high-severity one, and the same on the clean lots (no
planted anomaly at all): the false-alarm share; per rule, its false alarms on clean lots,
each with a Wilson 95 % interval. Near-misses (`_ground_truth/near_misses.csv`: made to look
like an anomaly of a rule without being one) that a rule flagged are counted per rule.

The statistical screens (price screens, co-bidding ring, rotation) are also judged as
rankings, the way an analyst uses them: the AUC (Mann-Whitney) of the per-lot screen score
for the planted lots against the clean lots (lots with no planted anomaly at all), from
`marts.fct_tender_risk`. AUC 0.5 = no better than chance, 1.0 = every planted lot ranks
above every clean one.
"""

from __future__ import annotations

import csv
import math
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

# Subjects other than lots that rules judge, for the false-alarm rate of those rules.
# (id column, table); a table the build did not make leaves that type without a rate.
SUBJECT_UNIVERSE: dict[str, tuple[str, str]] = {
    "complaint": ("complaint_id", "staging.stg_trading_centre__complaints"),
    "case": ("case_id", "staging.stg_trading_centre__cases"),
    "entity": ("entity_id", "staging.stg_trading_centre__entities"),
}


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
    subject_type: str | None = None
    clean_subjects: int = 0       # subjects of the rule's type with no planted anomaly
    clean_lots_flagged: int = 0   # ... that this rule flagged (false alarms on clean subjects)
    near_misses: int = 0          # near-misses of this rule in the ground truth
    near_misses_flagged: int = 0  # ... that the rule flagged (should be 0)

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.signals if self.signals else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.ground_truth if self.ground_truth else None


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """Wilson score interval of a proportion k/n (95 % by default); None without trials."""
    if n <= 0:
        return None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass
class AlertVolume:
    """Lots with alerts: the length of the list a leader reads."""
    lots: int
    lots_with_alert: int
    lots_with_high_alert: int
    clean_lots: int
    clean_lots_with_alert: int
    clean_lots_with_high_alert: int

    @property
    def share_any(self) -> float | None:
        return self.lots_with_alert / self.lots if self.lots else None

    @property
    def share_high(self) -> float | None:
        return self.lots_with_high_alert / self.lots if self.lots else None

    @property
    def clean_share_any(self) -> float | None:
        return self.clean_lots_with_alert / self.clean_lots if self.clean_lots else None

    @property
    def clean_share_high(self) -> float | None:
        return self.clean_lots_with_high_alert / self.clean_lots if self.clean_lots else None


@dataclass
class Evaluation:
    rules: list[RuleScore]
    auc: dict[str, float | None]
    auc_counts: dict[str, tuple[int, int]]
    overall_precision: float | None
    overall_recall: float | None
    deterministic_precision: float | None
    deterministic_recall: float | None
    volume: AlertVolume | None = None

    def failures(self, min_recall: float | None, min_precision: float | None,
                 min_auc: float | None = None, max_clean_alert_share: float | None = None) -> list[str]:
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
        share = self.volume.clean_share_any if self.volume else None
        if max_clean_alert_share is not None and share is not None and share > max_clean_alert_share:
            out.append(f"clean lots with any alert: {share:.3f} > {max_clean_alert_share}")
        return out

    def as_dict(self) -> dict:
        d = asdict(self)
        for r, src in zip(d["rules"], self.rules, strict=True):
            r["precision"], r["recall"] = src.precision, src.recall
            r["clean_false_alarm_rate"] = (src.clean_lots_flagged / src.clean_subjects
                                           if src.clean_subjects else None)
            r["clean_false_alarm_rate_ci95"] = wilson(src.clean_lots_flagged, src.clean_subjects)
        if self.volume:
            v = self.volume
            d["volume"].update(share_any=v.share_any, share_high=v.share_high, clean_share_any=v.clean_share_any,
                               clean_share_high=v.clean_share_high,
                               clean_share_any_ci95=wilson(v.clean_lots_with_alert, v.clean_lots),
                               share_any_ci95=wilson(v.lots_with_alert, v.lots))
        return d


def read_ground_truth(landing: Path, name: str = "anomalies.csv") -> dict[str, set[Key]]:
    path = Path(landing) / "_ground_truth" / name
    if not path.exists():
        if name != "anomalies.csv":  # near-misses are optional (older landing zones have none)
            return {}
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
    near = read_ground_truth(landing, "near_misses.csv")
    with db.connect(url) as conn:
        catalogue, subject_types = {}, {}
        for rule_id, deterministic, subject_type in conn.execute(
                "select rule_id, deterministic, subject_type from marts.dim_risk_rules"):
            catalogue[rule_id], subject_types[rule_id] = deterministic, subject_type
        signals: dict[str, set[Key]] = {}
        for rule_id, subject_type, subject_id in conn.execute(
                "select rule_id, subject_type, subject_id from marts.fct_risk_signals"):
            signals.setdefault(rule_id, set()).add((subject_type, subject_id))
        lot_scores = conn.execute(
            "select tender_id, " + ", ".join(SCREEN_SCORES.values()) + " from marts.fct_tender_risk"
        ).fetchall()
        lot_alerts = conn.execute(
            """select subject_id, rule_id, severity from marts.fct_risk_signals where subject_type = 'tender'"""
        ).fetchall()
        # the subjects a rule of each type could flag, for its false alarms on clean ones
        universe: dict[str, set[str]] = {"tender": {row[0] for row in lot_scores}}
        for subject_type, (column, table) in SUBJECT_UNIVERSE.items():
            if conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is not None:
                universe[subject_type] = {row[0] for row in conn.execute(f"select {column} from {table}")}

    planted_lots = {sid for keys in truth.values() for (st, sid) in keys if st == "tender"}
    all_lots = {row[0] for row in lot_scores}
    clean = all_lots - planted_lots
    flagged = {sid for sid, _, _ in lot_alerts if sid in all_lots}
    flagged_high = {sid for sid, _, sev in lot_alerts if sid in all_lots and sev == "high"}
    volume = AlertVolume(len(all_lots), len(flagged), len(flagged_high), len(clean),
                         len(flagged & clean), len(flagged_high & clean))
    planted = {(st, sid) for keys in truth.values() for (st, sid) in keys}
    clean_subjects = {st: {sid for sid in ids if (st, sid) not in planted} for st, ids in universe.items()}
    clean_by_rule: dict[str, set[str]] = {}
    for rule_id, keys in signals.items():
        clean_by_rule[rule_id] = {sid for st, sid in keys if sid in clean_subjects.get(st, set())}
    rule_types = {st for keys in signals.values() for st, _ in keys}
    clean_counts = {st: len(clean_subjects.get(st, set())) for st in universe.keys() | rule_types}

    rules: list[RuleScore] = []
    for rule_id in sorted(set(catalogue) | set(truth)):
        gt, found = truth.get(rule_id, set()), signals.get(rule_id, set())
        rs = RuleScore(rule_id, catalogue.get(rule_id), rule_id in catalogue,
                       ground_truth=len(gt), signals=len(found), true_positives=len(gt & found),
                       false_positives=len(found - gt), false_negatives=len(gt - found),
                       missed=sorted(s for _, s in gt - found)[:5],
                       unexpected=sorted(s for _, s in found - gt)[:5],
                       subject_type=subject_types.get(rule_id),
                       clean_subjects=clean_counts.get(subject_types.get(rule_id) or "", 0),
                       clean_lots_flagged=len(clean_by_rule.get(rule_id, set())),
                       near_misses=len(near.get(rule_id, set())),
                       near_misses_flagged=len(near.get(rule_id, set()) & found))
        rules.append(rs)

    def micro(selected: list[RuleScore]) -> tuple[float | None, float | None]:
        tp = sum(r.true_positives for r in selected)
        n_sig = sum(r.signals for r in selected)
        n_gt = sum(r.ground_truth for r in selected)
        return (tp / n_sig if n_sig else None, tp / n_gt if n_gt else None)

    exercised = [r for r in rules if r.ground_truth]
    overall_p, overall_r = micro(exercised)
    det_p, det_r = micro([r for r in exercised if r.deterministic])

    auc: dict[str, float | None] = {}
    auc_counts: dict[str, tuple[int, int]] = {}
    columns = list(SCREEN_SCORES)
    for idx, rule_id in enumerate(columns, start=1):
        positives_ids = {sid for (st, sid) in truth.get(rule_id, set()) if st == "tender"}
        pos = [float(row[idx] or 0.0) for row in lot_scores if row[0] in positives_ids]
        neg = [float(row[idx] or 0.0) for row in lot_scores if row[0] not in planted_lots]
        auc[rule_id] = _auc(pos, neg)
        auc_counts[rule_id] = (len(pos), len(neg))
    return Evaluation(rules, auc, auc_counts, overall_p, overall_r, det_p, det_r, volume)


def _fmt(x: float | None) -> str:
    return "   -" if x is None else f"{x:.3f}"


def _pct(k: int, n: int) -> str:
    if not n:
        return "-"
    lo, hi = wilson(k, n) or (0.0, 0.0)
    return f"{100 * k / n:.1f} % [{100 * lo:.1f}, {100 * hi:.1f}]"


def render(ev: Evaluation) -> str:
    lines = [f"{'rule_id':<30} {'kind':<6} {'truth':>6} {'signals':>8} {'tp':>5} {'fp':>5} {'fn':>5} "
             f"{'precision':>9} {'recall':>7} {'near-miss':>9}  false alarms on clean subjects [95 % CI]"]
    lines.append("-" * len(lines[0]))
    for r in ev.rules:
        kind = "det" if r.deterministic else ("screen" if r.in_catalogue else "??")
        near = f"{r.near_misses_flagged}/{r.near_misses}" if r.near_misses else "-"
        lines.append(f"{r.rule_id:<30} {kind:<6} {r.ground_truth:>6} {r.signals:>8} {r.true_positives:>5} "
                     f"{r.false_positives:>5} {r.false_negatives:>5} {_fmt(r.precision):>9} {_fmt(r.recall):>7} "
                     f"{near:>9}  {_pct(r.clean_lots_flagged, r.clean_subjects)} of {r.clean_subjects} "
                     f"clean {r.subject_type or '?'} subjects")
    lines.append("-" * len(lines[0]))
    lines.append(f"overall (rules in the ground truth): precision {_fmt(ev.overall_precision)}  "
                 f"recall {_fmt(ev.overall_recall)}")
    lines.append(f"deterministic rules:                 precision {_fmt(ev.deterministic_precision)}  "
                 f"recall {_fmt(ev.deterministic_recall)}")
    if ev.volume:
        v = ev.volume
        lines.append("")
        lines.append("alert volume (lot-level signals; shares with Wilson 95 % intervals):")
        lines.append(f"  lots with any alert            {v.lots_with_alert:>6} of {v.lots:<6} {_pct(v.lots_with_alert, v.lots)}")
        lines.append(f"  lots with a high-severity alert {v.lots_with_high_alert:>5} of {v.lots:<6} "
                     f"{_pct(v.lots_with_high_alert, v.lots)}")
        lines.append(f"  clean lots with any alert      {v.clean_lots_with_alert:>6} of {v.clean_lots:<6} "
                     f"{_pct(v.clean_lots_with_alert, v.clean_lots)}")
        lines.append(f"  clean lots with a high alert   {v.clean_lots_with_high_alert:>6} of {v.clean_lots:<6} "
                     f"{_pct(v.clean_lots_with_high_alert, v.clean_lots)}")
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
