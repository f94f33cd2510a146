"""The reference distribution of the price screens in competitive lots (seed screen_reference.csv).

int_lot_price_screens judges a lot's screens against how competitive lots of labelled markets
look, not against the other lots of its own population (a market rigged throughout would then
look normal). This module computes that reference from the labelled bid tables of
../shared/realdata/cartels/ with the same formulas as the SQL (CV with the sample standard
deviation; KS distance to the uniform over the bids' range; the bias-corrected kurtosis), per
market, screen and bid-count bucket: the 0.00 .. 1.00 quantiles of the competitive lots.
The model averages the markets' quantiles (each market weighs the same); a leave-one-market-out
check drops the market scored (tests/risk/test_screen_reference.py, docs/evaluation.md Method).

    .venv/bin/python tests/risk/screen_reference.py   # rewrites dbt_project/seeds/screen_reference.csv
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CARTELS = REPO.parent / "shared" / "realdata" / "cartels"
SEED = REPO / "dbt_project" / "seeds" / "screen_reference.csv"
# market label -> file of the labelled bid tables (García Rodríguez et al. 2022)
MARKETS = {
    "italy": "DB_Collusion_Italy_processed.csv",
    "switzerland_gr_see_gaster": "DB_Collusion_Switzerland_GR_and_See-Gaster_processed.csv",
    "usa_ohio_milk": "DB_Collusion_America_processed.csv",
}
SCREENS = ("cv", "ks", "kurt")
QUANTILES = [q / 100 for q in range(101)]
MIN_LOTS = 20  # fewer competitive lots of a bucket in a market: that market gives no quantiles


def n_bucket(n: int) -> int:
    """Bid-count buckets: the screens' spread under competition shrinks as bids grow."""
    return 3 if n <= 3 else 4 if n <= 4 else 5 if n <= 6 else 7 if n <= 10 else 11


def screens(prices: list[float]) -> dict[str, float | None]:
    b = sorted(prices)
    n = len(b)
    m = sum(b) / n
    s = math.sqrt(sum((x - m) ** 2 for x in b) / (n - 1))
    out: dict[str, float | None] = {"cv": s / m if m else None, "ks": None, "kurt": None}
    if b[-1] > b[0]:
        f = [(x - b[0]) / (b[-1] - b[0]) for x in b]
        out["ks"] = max(max((i + 1) / n - f[i], f[i] - i / n) for i in range(n))
    if n >= 4 and s > 0:
        z4 = sum(((x - m) / s) ** 4 for x in b)
        out["kurt"] = (n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * z4
                       - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))
    return out


def quantile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def lots(path: Path) -> list[tuple[bool, list[float]]]:
    """(collusive, positive bid prices) per tender; a tender is collusive when any bid is."""
    prices: dict[str, list[float]] = defaultdict(list)
    collusive: dict[str, bool] = defaultdict(bool)
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            price = float(row["Bid_value"])
            if price > 0:
                prices[row["Tender"]].append(price)
            collusive[row["Tender"]] |= float(row["Collusive_competitor"] or 0) == 1
    return [(collusive[t], p) for t, p in prices.items() if len(p) >= 3]


def build() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for market, file in MARKETS.items():
        values: dict[tuple[str, int], list[float]] = defaultdict(list)
        for is_collusive, prices in lots(CARTELS / file):
            if is_collusive:
                continue
            for screen, value in screens(prices).items():
                if value is not None:
                    values[(screen, n_bucket(len(prices)))].append(value)
        for (screen, bucket), vals in sorted(values.items()):
            if len(vals) < MIN_LOTS:
                continue
            vals.sort()
            for q in QUANTILES:
                rows.append({"market": market, "screen": screen, "n_bucket": bucket, "n_lots": len(vals),
                             "quantile": f"{q:.2f}", "value": f"{quantile(vals, q):.8g}"})
    return rows


def pooled(rows: list[dict[str, object]], markets: set[str] | None = None) -> dict[tuple[str, int], list[tuple[float, float]]]:
    """(screen, bucket) -> [(quantile, value)]: the markets' quantiles averaged, as the model does
    (markets = None: all; a leave-one-market-out check passes the others)."""
    acc: dict[tuple[str, int, float], list[float]] = defaultdict(list)
    for r in rows:
        if markets is None or r["market"] in markets:
            acc[(str(r["screen"]), int(r["n_bucket"]), float(r["quantile"]))].append(float(r["value"]))
    out: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)
    for (screen, bucket, q), vals in sorted(acc.items()):
        out[(screen, bucket)].append((q, sum(vals) / len(vals)))
    return out


def strength(x: float, steps: list[tuple[float, float]]) -> float:
    """1 - the reference CDF at x, mid-point of a plateau, linear between quantiles (as the SQL)."""
    def cdf(strict: bool) -> float:
        best = 0.0
        for (q, v), nxt in zip(steps, [*steps[1:], None], strict=True):
            if (v < x) if strict else (v <= x):
                f = q
                if nxt is not None and nxt[1] > v:
                    f += min(1.0, (x - v) / (nxt[1] - v)) * (nxt[0] - q)
                best = max(best, f)
        return best
    return 1 - (cdf(True) + cdf(False)) / 2


def nearest_bucket(screen: str, bucket: int, reference: dict[tuple[str, int], list[tuple[float, float]]]) -> int:
    """The bucket itself, else the nearest one the reference has (a reference left without a market,
    in the leave-one-market-out check, may lack some; the seed covers all, see its test)."""
    have = [b for s, b in reference if s == screen]
    if not have or bucket in have or (screen == "kurt" and bucket == 3):
        return bucket
    return min(have, key=lambda b: (abs(b - bucket), -b))


def screen_score(values: dict[str, float | None], n_bids: int,
                 reference: dict[tuple[str, int], list[tuple[float, float]]]) -> float | None:
    """Fisher's combination of the screens' tail probabilities, as int_lot_price_screens."""
    ln_p, k = 0.0, 0
    for screen in SCREENS:
        x = values.get(screen)
        steps = reference.get((screen, nearest_bucket(screen, n_bucket(n_bids), reference)))
        if x is None or not steps:
            continue
        ln_p += math.log(max(1e-4, 1 - strength(x, steps)))
        k += 1
    if k == 0:
        return None
    return 1 - math.exp(ln_p) * sum((-ln_p) ** j / math.factorial(j) for j in range(k))


def read(path: Path = SEED) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write(rows: list[dict[str, object]], path: Path = SEED) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["market", "screen", "n_bucket", "n_lots", "quantile", "value"],
                           lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    write(build())
    print(f"wrote {SEED}")
