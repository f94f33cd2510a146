"""Judge the stored scores of a converted market as rankings of collusive against
competitive lots.

AUC is the Mann-Whitney statistic (ties count one half): the chance that a random
collusive lot scores above a random competitive one; 0.5 = no better than chance, below
0.5 = the score points the wrong way. Intervals: percentile bootstrap over lots (lots
resampled with replacement, fixed seed), and for risk_score − (−CV) the same draws for
both, so the difference is paired. The baseline −CV (sd / mean of the lot's bids, negated:
low spread is suspicious) is computed here from the converted bids, twice: with the
population sd, and with the sample sd as the published data sets do (their CV column).
The two rank lots of different sizes differently (sd ratio √(n/(n−1))), so a ranking
is held to the better of the two (`worst_difference`).

Which scores: every numeric column of marts.fct_tender_risk and of every per-lot
intermediate table (int_lot_*) that is not a count, price, year or population
descriptor, discovered from the database, so new scores show up without editing this file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.stats import rankdata

from ggzy import db
from ggzy.realdata.convert import Conversion

# the leaders' ranking, then every per-lot intermediate table (int_lot_price_screens,
# int_lot_network_scores, and any int_lot_* added later)
SCORE_TABLES = (("marts", "fct_tender_risk"),)
LOT_TABLES = ("intermediate", r"int\_lot\_%")
NUMERIC = ("numeric", "double precision", "real", "integer", "bigint", "smallint")
# descriptors, not scores: counts, prices, years, population bookkeeping
NOT_SCORES_PREFIX = ("n_",)
NOT_SCORES_SUFFIX = ("_price", "_year", "_level", "_size", "_id")
# rule groups that judge what a bid table holds (prices, firms, winners); a rule of any
# other group firing on converted data would be an artefact of the conversion
GROUPS_ON_BID_DATA = ("collusion", "price_screen", "network", "procurement")
MIN_BIDS = 3  # lots judged as rankings: the screens need three bids


@dataclass
class ScoreAuc:
    score: str  # table.column, or "-cv (baseline)"
    lots: int
    auc: float | None
    low: float | None
    high: float | None


@dataclass
class RuleRate:
    rule_id: str
    rule_group: str
    on_bid_data: bool
    competitive: int
    collusive: int
    competitive_pct: float
    collusive_pct: float


@dataclass
class MarketResult:
    name: str
    source: str
    notes: list[str]
    lots: int
    lots_min_bids: int
    collusive_share: float
    collusive_share_min_bids: float
    risk_score: ScoreAuc
    neg_cv: ScoreAuc  # population sd
    neg_cv_sample: ScoreAuc  # sample sd (the published CV)
    difference: ScoreAuc  # risk_score AUC − (−CV) AUC, paired
    difference_sample: ScoreAuc
    risk_score_all_lots: ScoreAuc  # the leaders' ranking over every lot, also those with 1-2 bids
    scores: list[ScoreAuc]
    rules: list[RuleRate]
    pipeline: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def worst_difference(self) -> float | None:
        """risk_score's AUC minus the better of the two −CV baselines."""
        diffs = [d.auc for d in (self.difference, self.difference_sample)]
        return None if None in diffs else min(diffs)


def auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    labels = labels.astype(bool)
    pos, neg = int(labels.sum()), int((~labels).sum())
    if not pos or not neg:
        return None
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


def _auc_draws(scores: np.ndarray, labels: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """AUC of each bootstrap draw (rows of idx); NaN where a draw lacks a class."""
    s, y = scores[idx], labels[idx].astype(bool)
    ranks = rankdata(s, axis=1)
    pos = y.sum(axis=1).astype(float)
    neg = y.shape[1] - pos
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((ranks * y).sum(axis=1) - pos * (pos + 1) / 2) / (pos * neg)


def _interval(draws: np.ndarray) -> tuple[float | None, float | None]:
    ok = draws[np.isfinite(draws)]
    if not ok.size:
        return None, None
    return float(np.percentile(ok, 2.5)), float(np.percentile(ok, 97.5))


def score_auc(name: str, scores: np.ndarray, labels: np.ndarray, draws: int, seed: int) -> ScoreAuc:
    keep = np.isfinite(scores)
    s, y = scores[keep], labels[keep]
    value = auc(s, y)
    if value is None:
        return ScoreAuc(name, int(keep.sum()), None, None, None)
    idx = np.random.default_rng(seed).integers(0, len(s), size=(draws, len(s)))
    low, high = _interval(_auc_draws(s, y, idx))
    return ScoreAuc(name, int(keep.sum()), value, low, high)


def paired_difference(a: np.ndarray, b: np.ndarray, labels: np.ndarray, draws: int, seed: int,
                      name: str) -> ScoreAuc:
    """AUC(a) − AUC(b) on the same lots, interval from the same bootstrap draws."""
    keep = np.isfinite(a) & np.isfinite(b)
    a, b, y = a[keep], b[keep], labels[keep]
    auc_a, auc_b = auc(a, y), auc(b, y)
    if auc_a is None or auc_b is None:
        return ScoreAuc(name, int(keep.sum()), None, None, None)
    idx = np.random.default_rng(seed).integers(0, len(y), size=(draws, len(y)))
    low, high = _interval(_auc_draws(a, y, idx) - _auc_draws(b, y, idx))
    return ScoreAuc(name, int(keep.sum()), auc_a - auc_b, low, high)


def score_columns(conn) -> list[tuple[str, str, str]]:
    """(schema, table, column) of every stored score, in table order."""
    out = []
    lot_tables = conn.execute(
        """select table_schema, table_name from information_schema.columns
           where table_schema = %s and table_name like %s and column_name = 'tender_id'
           order by table_name""", LOT_TABLES).fetchall()
    for schema, table in [*SCORE_TABLES, *lot_tables]:
        rows = conn.execute(
            """select column_name, data_type from information_schema.columns
               where table_schema = %s and table_name = %s order by ordinal_position""",
            (schema, table)).fetchall()
        for column, dtype in rows:
            numeric = dtype in NUMERIC
            flag = dtype == "boolean" and column.startswith("is_")
            if not (numeric or flag) or column.startswith(NOT_SCORES_PREFIX) or column.endswith(NOT_SCORES_SUFFIX):
                continue
            out.append((schema, table, column))
    return out


def _column_values(conn, schema: str, table: str, column: str, tender_ids: list[str]) -> np.ndarray:
    rows = dict(conn.execute(f'select tender_id, "{column}"::float8 from {schema}.{table}'
                             if not column.startswith("is_") else
                             f'select tender_id, "{column}"::int::float8 from {schema}.{table}').fetchall())
    return np.array([np.nan if rows.get(t) is None else rows[t] for t in tender_ids], dtype=float)


def evaluate_market(conv: Conversion, url: str, draws: int = 1000, seed: int = 20221101) -> MarketResult:
    lots = conv.lots
    judged = [lot for lot in lots if len(lot.prices) >= MIN_BIDS]
    ids = [lot.tender_id for lot in judged]
    labels = np.array([lot.collusive for lot in judged], dtype=bool)
    neg_cv = np.array([np.nan if lot.neg_cv() is None else lot.neg_cv() for lot in judged], dtype=float)
    neg_cv_sample = np.array([np.nan if lot.neg_cv(1) is None else lot.neg_cv(1) for lot in judged], dtype=float)
    with db.connect(url) as conn:
        columns = score_columns(conn)
        values = {f"{table}.{column}": _column_values(conn, schema, table, column, ids)
                  for schema, table, column in columns}
        risk_all = _column_values(conn, "marts", "fct_tender_risk", "risk_score", [lot.tender_id for lot in lots])
        groups = dict(conn.execute("select rule_id, rule_group from marts.dim_risk_rules").fetchall())
        fired = conn.execute("select distinct rule_id, tender_id from marts.fct_risk_signals "
                             "where tender_id is not null").fetchall()
    risk_key = "fct_tender_risk.risk_score"
    if risk_key not in values:
        raise RuntimeError("marts.fct_tender_risk has no risk_score column")
    scores = [score_auc(key, v, labels, draws, seed) for key, v in values.items()]
    labels_all = np.array([lot.collusive for lot in lots], dtype=bool)
    risk_on_all = score_auc("risk_score, all lots", risk_all, labels_all, draws, seed)
    baseline = score_auc("-cv (population sd)", neg_cv, labels, draws, seed)
    baseline_sample = score_auc("-cv (sample sd, as published)", neg_cv_sample, labels, draws, seed)
    diff = paired_difference(values[risk_key], neg_cv, labels, draws, seed, "risk_score - (-cv)")
    diff_sample = paired_difference(values[risk_key], neg_cv_sample, labels, draws, seed,
                                    "risk_score - (-cv sample)")

    collusive_of = {lot.tender_id: lot.collusive for lot in lots}
    n_coll = sum(collusive_of.values())
    n_comp = len(lots) - n_coll
    by_rule: dict[str, list[int]] = {}
    for rule_id, tender_id in fired:
        if tender_id in collusive_of:
            by_rule.setdefault(rule_id, [0, 0])[int(collusive_of[tender_id])] += 1
    rules = [RuleRate(rule_id, groups.get(rule_id, "?"), groups.get(rule_id) in GROUPS_ON_BID_DATA,
                      comp, coll, 100.0 * comp / n_comp if n_comp else 0.0,
                      100.0 * coll / n_coll if n_coll else 0.0)
             for rule_id, (comp, coll) in sorted(by_rule.items())]
    return MarketResult(
        conv.name, str(conv.source), conv.notes, len(lots), len(judged),
        n_coll / len(lots), float(labels.mean()) if len(labels) else 0.0,
        next(s for s in scores if s.score == risk_key), baseline, baseline_sample, diff, diff_sample,
        risk_on_all, scores, rules)


def _fmt(s: ScoreAuc, signed: bool = False) -> str:
    if s.auc is None:
        return "   -"
    sign = "+" if signed else ""
    lo = "-" if s.low is None else f"{s.low:{sign}.3f}"
    hi = "-" if s.high is None else f"{s.high:{sign}.3f}"
    return f"{s.auc:{sign}.3f} [{lo}, {hi}]"


def render(results: list[MarketResult], draws: int) -> str:
    lines: list[str] = []
    for r in results:
        lines.append(f"== {r.name}  ({r.source})")
        for note in r.notes:
            lines.append(f"   note: {note}")
        lines.append(f"   lots {r.lots}, collusive {r.collusive_share:.1%}; with >= {MIN_BIDS} bids {r.lots_min_bids}, "
                     f"collusive {r.collusive_share_min_bids:.1%}")
        if r.pipeline:
            lines.append("   pipeline: " + ", ".join(f"{k} {v}" for k, v in r.pipeline.items()))
        lines.append(f"   AUC on the {r.lots_min_bids} lots with >= {MIN_BIDS} bids (95% bootstrap interval, "
                     f"{draws} draws over lots):")
        lines.append(f"     {'risk_score':<44} {_fmt(r.risk_score)}")
        lines.append(f"     {r.neg_cv.score:<44} {_fmt(r.neg_cv)}")
        lines.append(f"     {r.neg_cv_sample.score:<44} {_fmt(r.neg_cv_sample)}")
        lines.append(f"     {'risk_score - (-cv), paired':<44} {_fmt(r.difference, signed=True)}")
        lines.append(f"     {'risk_score - (-cv sample), paired':<44} {_fmt(r.difference_sample, signed=True)}")
        if r.lots != r.lots_min_bids:
            lines.append(f"   risk_score on all {r.lots} lots: {_fmt(r.risk_score_all_lots)}")
        lines.append("   every stored score (AUC < 0.5: the score points the wrong way as stored):")
        for s in r.scores:
            lines.append(f"     {s.score:<44} {_fmt(s)}  n={s.lots}")
        lines.append(f"   tender rules that fired (all {r.lots} lots): competitive | collusive")
        for rule in r.rules:
            mark = "" if rule.on_bid_data else "   <- judges facts the data lacks: artefact of the conversion"
            lines.append(f"     {rule.rule_id:<30} {rule.competitive:>5} ({rule.competitive_pct:5.1f}%) | "
                         f"{rule.collusive:>5} ({rule.collusive_pct:5.1f}%){mark}")
        if not r.rules:
            lines.append("     (none)")
        lines.append("")
    valid = [r.risk_score.auc for r in results if r.risk_score.auc is not None]
    if valid:
        lines.append(f"mean risk_score AUC over {len(valid)} market(s): {sum(valid) / len(valid):.3f}; "
                     f"mean -cv AUC: {np.mean([r.neg_cv.auc for r in results if r.neg_cv.auc is not None]):.3f} "
                     f"(sample sd: {np.mean([r.neg_cv_sample.auc for r in results if r.neg_cv_sample.auc is not None]):.3f})")
    return "\n".join(lines)
