"""Co-bidding judged as of the lot's date instead of against the whole history, measured on the
real markets (issue 18: what the incremental network model would cost).

    .venv/bin/python tools/asof_cobid_eval.py [../shared/realdata/cartels/*.csv] [--draws 1000]

int_bidder_pairs_scored judges every pair of bidders of a population against chance: X ~
Hypergeometric(N lots, K = lots of a, n = lots of b), p = P(X >= joint lots). Every new lot
changes N and the counts, so the whole population is re-judged every night. The way out
measured here: judge each lot's pairs against the population as it stood on the lot's date
(counts of the lots dated up to and including it), or "settled" W days later (up to date + W,
or the last date where that is later). Variants, each a cutoff date per lot:

- whole: the whole history (today's model);
- as-of: the lot's date; settled W: min(date + W, last date), W = 90, 180, 365 days.

Lot score = max over the lot's pairs meeting >= net_min_cobids (2) times of -log10 p, one
population per market (as the converted markets are: one category x prefecture, no province
row). Judged twice: without the calibration of the null, and with it as the model computes it
(null_calibration: where more than net_max_recurrent_share of the testable pairs recur, every
expectation is scaled by the smallest factor that brings them back, p then Poisson's tail;
recomputed at each cutoff, as a nightly as-of model would). For the calibrated whole history
the model's own lot columns are also rebuilt (p doubled for the two populations tested,
network_strength, the ring lot of net_cobid_ring) to check them against docs/evaluation.md.

Markets are read as the project reads them (ggzy.realdata.convert: firm = Competitors, lot =
Tender, lots in Date order, else tender order); a lot is collusive when any of its bids is.
Dates: the USA's Date is a year (Ohio school-milk contracts, bid once a season): "as-of
(season)" counts every lot of the lot's year; the other USA variants spread each year's lots
over its 365 days in the file's order (a proxy: the file is not in time order within a year).
Italy has no Date: lots are dated as the converter dates them (tender order over the working
days of 2025, 278 lots in 365 days: W = 90 / 180 days are about 68 / 137 lots; 365 days reach
the last lot, so settled 365 = whole there). A market without firm ids (GR/See-Gaster) cannot
be measured and is skipped with a note.

AUC on the lots with >= 3 bids (as ggzy eval real), 95 % percentile bootstrap, 1,000 draws
of lots, seed 20221101, the same draws for every variant (differences vs whole are paired).
Shares of lots with a pair at p < net_pair_max_p over all lots, Wilson 95 %.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.optimize import brentq
from scipy.special import gammaln, logsumexp
from scipy.stats import hypergeom

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from ggzy.evaluation import wilson  # noqa: E402
from ggzy.realdata.convert import YEAR, _lots_in_order, _weekdays, read_table  # noqa: E402
from ggzy.realdata.report import MIN_BIDS, _auc_draws, _interval, auc  # noqa: E402

DEFAULT_FILES = ("DB_Collusion_America_processed.csv", "DB_Collusion_Italy_processed.csv",
                 "DB_Collusion_Switzerland_GR_and_See-Gaster_processed.csv")
REALDATA = ROOT.parent / "shared" / "realdata" / "cartels"
WINDOWS = (90, 180, 365)  # days
SEED = 20221101  # ggzy eval real's bootstrap seed: the same draws
POISSON_TERMS = 61  # as the macro poisson_upper_tail_ln
LN10 = math.log(10.0)


def model_vars() -> dict:
    """The network model's thresholds, read from dbt_project.yml so that they stay the model's."""
    v = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    return {k: v[k] for k in ("net_min_cobids", "net_pair_max_p", "net_max_recurrent_share",
                              "net_calibration_min_pairs", "net_min_lot_score")}


VARS = model_vars()


@dataclass
class Market:
    name: str
    firms: list[np.ndarray]  # per lot (in date order), its distinct firm indices
    n_bids: np.ndarray
    collusive: np.ndarray
    cutoffs: dict[str, np.ndarray]  # variant -> per lot, the last date whose lots count
    day: np.ndarray  # the date each lot counts from (days)
    dating: str
    period: np.ndarray | None = None  # season (USA) or month (Italy): the strata of the within-period AUC


# ---------------------------------------------------------------- tails (in logs: p may be < 1e-308)

def hypergeom_ln_tail(n_lots, n_a, n_b, observed) -> np.ndarray:
    """ln P(X >= observed), X ~ Hypergeometric(N, K, n), every term of the tail summed in logs."""
    n_lots, n_a, n_b, observed = (np.asarray(x, dtype=np.int64) for x in (n_lots, n_a, n_b, observed))
    out = np.zeros(len(observed))
    top = np.minimum(n_a, n_b)
    step = 4_000_000
    order = np.argsort(top - observed)
    start = 0
    while start < len(order):  # chunks of rows of similar tail length
        stop = start + 1
        while stop < len(order) and (stop - start + 1) * (int(top[order[stop]] - observed[order[stop]]) + 1) <= step:
            stop += 1
        rows = order[start:stop]
        width = int((top[rows] - observed[rows]).max()) + 1
        k = observed[rows, None] + np.arange(width)[None, :]
        terms = hypergeom.logpmf(k, n_lots[rows, None], n_a[rows, None], n_b[rows, None])
        terms[k > top[rows, None]] = -np.inf
        out[rows] = np.minimum(0.0, logsumexp(terms, axis=1))
        start = stop
    return out


def poisson_ln_tail(mean, observed) -> np.ndarray:
    """ln P(X >= observed), X ~ Poisson(mean), as the macro poisson_upper_tail_ln: 61 terms from
    the observed count up, 0 where no more than expected was seen."""
    mean, observed = np.asarray(mean, dtype=float), np.asarray(observed, dtype=float)
    out = np.zeros(len(observed))
    live = observed > mean
    k = observed[live, None] + np.arange(POISSON_TERMS)[None, :]
    m = mean[live, None]
    out[live] = np.minimum(0.0, logsumexp(-m + k * np.log(m) - gammaln(k + 1.0), axis=1))
    return out


def critical_means(max_observed: int) -> np.ndarray:
    """[o] -> the Poisson mean above which o joint lots are no longer improbable (tail >
    net_pair_max_p): the bisection critical_means of the model, solved exactly."""
    target = math.log(VARS["net_pair_max_p"])
    out = np.full(max_observed + 1, np.nan)
    for o in range(2, max_observed + 1):
        out[o] = brentq(lambda m, o=o: poisson_ln_tail([m], [o])[0] - target, 1e-12, float(o), xtol=1e-14)
    return out


# ---------------------------------------------------------------- the model, population as of a cutoff

def calibration(n_lots: int, lots_of: np.ndarray, pair_a, pair_b, observed, lam) -> float:
    """null_calibration of int_bidder_pairs_scored for one population in its current state."""
    testable = int((lots_of >= 2).sum())
    allowed = math.floor(VARS["net_max_recurrent_share"] * testable * (testable - 1) / 2)
    if allowed < VARS["net_calibration_min_pairs"]:
        return 1.0
    seen = observed >= 2
    if seen.sum() < allowed + 1:
        return 1.0
    expected = lots_of[pair_a[seen]].astype(float) * lots_of[pair_b[seen]] / n_lots
    factors = lam[observed[seen]] / expected
    return max(1.0, float(-np.partition(-factors, allowed)[allowed]))  # the (allowed + 1)-th largest


def lot_pairs(market: Market):
    """Every pair of bidders of every lot: (offsets per lot, pair ids, pair -> firm a, firm b)."""
    n_firms = max(int(f.max()) for f in market.firms if len(f)) + 1
    keys, offsets = [], [0]
    for firms in market.firms:
        i, j = np.triu_indices(len(firms), k=1)
        keys.append(firms[i].astype(np.int64) * n_firms + firms[j])
        offsets.append(offsets[-1] + len(i))
    pair_keys, pair_ids = np.unique(np.concatenate(keys), return_inverse=True)
    return np.array(offsets), pair_ids, pair_keys // n_firms, pair_keys % n_firms, n_firms


def judge(market: Market, cutoff: np.ndarray, calibrate: bool, pairs=None) -> pd.DataFrame:
    """Per lot: its pairs judged against the population of the lots dated <= its cutoff."""
    offsets, pair_ids, pair_a, pair_b, n_firms = pairs or lot_pairs(market)
    if np.any(np.diff(market.day) < 0) or np.any(cutoff < market.day):
        raise ValueError("lots must be in date order and judged no earlier than their date")
    lots_of = np.zeros(n_firms, dtype=np.int64)
    observed = np.zeros(len(pair_a), dtype=np.int64)
    lam = critical_means(int(np.bincount(pair_ids).max())) if calibrate else None
    n_lots, added, parts = 0, 0, []
    for c in np.unique(cutoff):
        while added < len(market.firms) and market.day[added] <= c:
            lots_of[market.firms[added]] += 1
            observed[pair_ids[offsets[added]:offsets[added + 1]]] += 1
            n_lots, added = n_lots + 1, added + 1
        factor = calibration(n_lots, lots_of, pair_a, pair_b, observed, lam) if calibrate else 1.0
        for lot in np.flatnonzero(cutoff == c):
            ids = pair_ids[offsets[lot]:offsets[lot + 1]]
            parts.append((np.full(len(ids), lot), np.full(len(ids), n_lots), lots_of[pair_a[ids]],
                          lots_of[pair_b[ids]], observed[ids], np.full(len(ids), factor)))
    columns = ("lot", "n_lots", "n_a", "n_b", "observed", "calibration")
    rows = pd.DataFrame({col: np.concatenate([p[i] for p in parts]) for i, col in enumerate(columns)})
    rows["ln_p"] = ln_p_values(rows)
    return lot_scores(rows, len(market.firms))


def ln_p_values(rows: pd.DataFrame) -> np.ndarray:
    """ln p of each pair as local_pairs computes it: the hypergeometric tail, or Poisson's tail of
    the calibrated expectation; 0 for one joint lot or no more than expected (computed once per
    distinct population state)."""
    key = ["n_lots", "n_a", "n_b", "observed", "calibration"]
    states = rows[key].drop_duplicates().reset_index(drop=True)
    expected = states.n_a * states.n_b / states.n_lots
    ln_p = np.zeros(len(states))
    cal = (states.calibration > 1.0) & (states.observed >= 2)
    ln_p[cal] = poisson_ln_tail((states.calibration * expected)[cal], states.observed[cal])
    exact = (states.calibration == 1.0) & (states.observed >= 2) & (states.observed > expected)
    ln_p[exact] = hypergeom_ln_tail(states.n_lots[exact], states.n_a[exact], states.n_b[exact],
                                    states.observed[exact])
    states["ln_p"] = ln_p
    return rows[key].merge(states, on=key, how="left")["ln_p"].to_numpy()


def lot_scores(rows: pd.DataFrame, n_lots: int) -> pd.DataFrame:
    """score = max -log10 p over the lot's recurring pairs (the measure of this study); pair_p001 =
    a pair at p < net_pair_max_p; and the model's own lot columns (int_lot_network_scores: p
    doubled for the two populations it tests, strength Bonferroni-corrected for the lot's pairs,
    the ring lot that net_cobid_ring alerts on)."""
    recurring = rows.observed >= VARS["net_min_cobids"]
    ln_p2 = np.minimum(0.0, rows.ln_p + math.log(2.0))
    rows = rows.assign(
        surprise=np.where(recurring, -rows.ln_p / LN10, 0.0),
        pair_p001=recurring & (rows.ln_p < math.log(VARS["net_pair_max_p"])),
        surprise2=np.where(recurring, np.maximum(0.0, -ln_p2 / LN10), 0.0),
        recurring=recurring,
    )
    g = rows.groupby("lot")
    out = pd.DataFrame({"score": g.surprise.max(), "pair_p001": g.pair_p001.any(), "n_pairs": g.size(),
                        "n_recurring": g.recurring.sum(), "cobid_score": g.surprise2.mean(),
                        "max_surprise2": g.surprise2.max()}).reindex(range(n_lots))
    out["score"] = out.score.fillna(0.0)
    out["pair_p001"] = out.pair_p001.fillna(False).astype(bool)
    out["ring_lot"] = ((out.n_pairs >= 3) & (out.n_recurring >= out.n_pairs)
                       & (out.cobid_score >= VARS["net_min_lot_score"]))
    max_surprise = np.maximum(0.0, out.max_surprise2 - np.log10(out.n_pairs))
    out["network_strength"] = max_surprise / (max_surprise + 10.0)  # NaN for a lot without pairs, as the model
    return out


# ---------------------------------------------------------------- markets and the report

def load_market(path: Path) -> tuple[Market | None, str]:
    bids, _ = read_table(path)
    name = next((v for k, v in (("america", "USA"), ("italy", "Italy")) if k in path.stem.lower()), path.stem)
    if not all(b.firm for b in bids):
        return None, f"{path.name}: no firm ids (Competitors): co-bidding cannot be measured, skipped"
    lots = _lots_in_order(bids)
    index: dict[str, int] = {}
    firms = [np.unique([index.setdefault(b.firm, len(index)) for b in lot]) for lot in lots]
    n_bids = np.array([len(lot) for lot in lots])
    collusive = np.array([any(b.collusive for b in lot) for lot in lots])
    if all(lot[0].order not in (None, "") for lot in lots):
        years = np.array([int(float(lot[0].order)) for lot in lots])
        if years.max() - years.min() > 100 or years.min() < 1800:
            raise ValueError(f"{path.name}: Date is not a year; this study reads years only")
        rank = pd.Series(years).groupby(years).cumcount().to_numpy()
        per_year = pd.Series(years).map(pd.Series(years).value_counts()).to_numpy()
        season = (years - years.min()) * 365
        day = season + rank * 365 // per_year  # the year's lots spread over it in file order
        dating = "Date = year; lots spread over their year in the file's order (proxy)"
        extra = {"as-of (season)": np.minimum(season + 364, day.max())}
        period = years
    else:
        days = _weekdays(YEAR)
        day = np.array([(days[i * len(days) // len(lots)] - days[0]).days for i in range(len(lots))])
        dating = f"no Date: tender order over the working days of {YEAR}, as the converter dates lots"
        extra = {}
        period = np.array([days[i * len(days) // len(lots)].month for i in range(len(lots))])
    last = day.max()
    cutoffs = {"whole": np.full(len(lots), last), **extra, "as-of": day}
    cutoffs.update({f"settled {w} d": np.minimum(day + w, last) for w in WINDOWS})
    return Market(name, firms, n_bids, collusive, cutoffs, day, dating, period), ""


def within_period_auc(scores: np.ndarray, labels: np.ndarray, period: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """AUC over the (collusive, competitive) pairs of lots of the same period only, for each draw
    (rows of idx): a score that grows with the history behind a lot, and labels whose share
    drifts over time, make an AUC across periods that the date alone would earn."""
    out = np.empty(len(idx))
    for d, rows in enumerate(idx):
        s, y, p = scores[rows], labels[rows], period[rows]
        num = den = 0.0
        for value in np.unique(p):
            here = p == value
            pos, neg = int(y[here].sum()), int((~y[here]).sum())
            if pos and neg:
                num += auc(s[here], y[here]) * pos * neg
                den += pos * neg
        out[d] = num / den if den else np.nan
    return out


def evaluate(market: Market, draws: int) -> list[dict]:
    judged = market.n_bids >= MIN_BIDS
    y = market.collusive[judged]
    period = market.period[judged]
    idx = np.random.default_rng(SEED).integers(0, len(y), size=(draws, len(y)))
    whole_draw = np.arange(len(y))[None, :]
    day = market.day[judged].astype(float)
    pairs = lot_pairs(market)
    out = [{"market": market.name, "calibrated": None, "variant": "the lot's date alone (reference)",
            "auc": auc(day, y), "auc_ci": _interval(_auc_draws(day, y, idx)),
            "within": within_period_auc(day, y, period, whole_draw)[0],
            "within_ci": _interval(within_period_auc(day, y, period, idx))}]
    for calibrate in (False, True):
        base = None
        for variant, cutoff in market.cutoffs.items():
            lots = judge(market, cutoff, calibrate, pairs)
            s = lots.score.to_numpy()[judged]
            boot = _auc_draws(s, y, idx)
            within, within_boot = within_period_auc(s, y, period, whole_draw)[0], within_period_auc(s, y, period, idx)
            if base is None:
                base = (s, boot, within, within_boot)
            row = {"market": market.name, "calibrated": calibrate, "variant": variant,
                   "auc": auc(s, y), "auc_ci": _interval(boot),
                   "diff": auc(s, y) - auc(base[0], y), "diff_ci": _interval(boot - base[1]),
                   "within": within, "within_ci": _interval(within_boot),
                   "within_diff": within - base[2], "within_diff_ci": _interval(within_boot - base[3])}
            for label, cls in (("collusive", market.collusive), ("competitive", ~market.collusive)):
                k, n = int(lots.pair_p001[cls].sum()), int(cls.sum())
                row[label] = (k, n, wilson(k, n))
                row[f"ring_{label}"] = int(lots.ring_lot[cls].sum())
            if calibrate:  # where in time the ring alerts fall: per period, collusive / competitive
                row["ring_by_period"] = {int(p): (int((lots.ring_lot & market.collusive)[market.period == p].sum()),
                                                  int((lots.ring_lot & ~market.collusive)[market.period == p].sum()))
                                         for p in np.unique(market.period)}
            strength = lots.network_strength.to_numpy()[judged]
            keep = np.isfinite(strength)
            row["strength_auc"] = auc(strength[keep], y[keep])
            out.append(row)
    return out


def _ci(ci, signed=False) -> str:
    fmt = "+.3f" if signed else ".3f"
    return f"[{ci[0]:{fmt}}, {ci[1]:{fmt}}]"


def render(rows: list[dict]) -> str:
    lines = ["", "reference: the lot's date as the score (how much of an AUC time alone earns)", "",
             "| market | AUC [95 %] | within period [95 %] |", "|---|---|---|"]
    for r in (r for r in rows if r["calibrated"] is None):
        lines.append(f"| {r['market']} | {r['auc']:.3f} {_ci(r['auc_ci'])} | {r['within']:.3f} {_ci(r['within_ci'])} |")
    for calibrate in (False, True):
        lines += ["", f"null calibration {'on (as the model)' if calibrate else 'off'}", "",
                  "| market | variant | AUC [95 %] | minus whole, paired | AUC within period | minus whole, paired | "
                  "collusive lots with a pair p < 0.001 | competitive lots with a pair p < 0.001 |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in (r for r in rows if r["calibrated"] == calibrate):
            shares = [f"{k / n:.1%} [{lo:.1%}, {hi:.1%}]" for k, n, (lo, hi) in (r["collusive"], r["competitive"])]
            first = r["variant"] == "whole"
            diff = "—" if first else f"{r['diff']:+.3f} {_ci(r['diff_ci'], True)}"
            within_diff = "—" if first else f"{r['within_diff']:+.3f} {_ci(r['within_diff_ci'], True)}"
            lines.append(f"| {r['market']} | {r['variant']} | {r['auc']:.3f} {_ci(r['auc_ci'])} | {diff} | "
                         f"{r['within']:.3f} {_ci(r['within_ci'])} | {within_diff} | {shares[0]} | {shares[1]} |")
    lines += ["", "the model's lot columns (p doubled, strength Bonferroni-corrected), calibrated:", "",
              "| market | variant | network_strength AUC | ring lots (net_cobid_ring): collusive / competitive |",
              "|---|---|---|---|"]
    for r in (r for r in rows if r["calibrated"] is True):
        (_, n_coll, _), (_, n_comp, _) = r["collusive"], r["competitive"]
        rates = [f"{k} ({k / n:.1%} [{lo:.1%}, {hi:.1%}])" for k, n in
                 ((r["ring_collusive"], n_coll), (r["ring_competitive"], n_comp)) for lo, hi in [wilson(k, n)]]
        lines.append(f"| {r['market']} | {r['variant']} | {r['strength_auc']:.3f} | {rates[0]} / {rates[1]} |")
    for market in dict.fromkeys(r["market"] for r in rows):
        calibrated = [r for r in rows if r["market"] == market and r["calibrated"] is True]
        periods = list(calibrated[0]["ring_by_period"])
        lines += ["", f"{market}: ring lots per period (season or month), calibrated, collusive / competitive", "",
                  "| variant | " + " | ".join(map(str, periods)) + " |", "|---" * (len(periods) + 1) + "|"]
        for r in calibrated:
            lines.append(f"| {r['variant']} | " + " | ".join(f"{a} / {b}" for a, b in r["ring_by_period"].values())
                         + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, default=[REALDATA / f for f in DEFAULT_FILES])
    ap.add_argument("--draws", type=int, default=1000)
    args = ap.parse_args(argv)
    rows = []
    for path in args.files:
        market, note = load_market(path)
        if market is None:
            print(f"note: {note}")
            continue
        print(f"{market.name}: {len(market.firms)} lots, {int(market.collusive.sum())} collusive, "
              f"{int((market.n_bids >= MIN_BIDS).sum())} with >= {MIN_BIDS} bids; {market.dating}")
        rows += evaluate(market, args.draws)
    print(render(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
