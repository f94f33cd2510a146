"""Leave-one-market-out check of the screen reference, on the scratch databases of ggzy eval real.

screen_reference.csv holds the competitive lots of the three labelled markets; the model averages
them. Scoring a market with a reference that contains that market's own competitive lots uses its
labels, so the honest figure recomputes each market's screen_score from the other two markets only
(from the screens stored in its scratch database) and puts it in risk_score in place of the
in-sample one (same weight). Nothing else in risk_score is learned from labels.

    ggzy eval real ../shared/realdata/cartels/*.csv --keep
    .venv/bin/python tests/risk/real_lomo.py        # table of in-sample and LOMO AUCs, 95 % intervals
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import psycopg
import screen_reference as ref

from ggzy.config import warehouse_url
from ggzy.realdata.convert import convert
from ggzy.realdata.report import score_auc
from ggzy.realdata.run import DB_PREFIX, database_url

# scratch database name (ggzy eval real) -> market label of the seed
MARKETS = {
    "italy": ("italy", "DB_Collusion_Italy_processed.csv"),
    "switzerland_gr_and_see_gaster": ("switzerland_gr_see_gaster",
                                      "DB_Collusion_Switzerland_GR_and_See-Gaster_processed.csv"),
    "america": ("usa_ohio_milk", "DB_Collusion_America_processed.csv"),
}


def lomo(name: str, draws: int = 1000, seed: int = 20221101) -> dict[str, object]:
    label, file = MARKETS[name]
    rows = ref.read()
    others = {r["market"] for r in rows} - {label}
    reference = ref.pooled(rows, others)
    conv = convert(ref.CARTELS / file, Path(tempfile.mkdtemp()) / "landing", name)
    judged = [lot for lot in conv.lots if len(lot.prices) >= 3]
    ids = [lot.tender_id for lot in judged]
    labels = np.array([lot.collusive for lot in judged], dtype=bool)
    with psycopg.connect(database_url(warehouse_url(), DB_PREFIX + name)) as conn:
        screens = {t: (n, cv, ks, kurt, score) for t, n, cv, ks, kurt, score in conn.execute(
            "select tender_id, n_bids, cv, ks, kurt, screen_score from intermediate.int_lot_price_screens")}
        risk = dict(conn.execute("select tender_id, risk_score::float8 from marts.fct_tender_risk"))
        (weight,), = conn.execute("select effective_weight::float8 from marts.dim_risk_rules "
                                  "where rule_id = 'ps_price_screen'").fetchall()
    in_sample, left_out = [], []
    for t in ids:
        r = risk.get(t) or 0.0
        if t not in screens:
            in_sample.append(r)
            left_out.append(r)
            continue
        n, cv, ks, kurt, score = screens[t]
        own = ref.screen_score({"cv": cv, "ks": ks, "kurt": kurt}, n, reference) or 0.0
        in_sample.append(r)
        left_out.append(r - weight * (score or 0.0) + weight * own)
    return {
        "market": name,
        "lots": len(ids),
        "in_sample": score_auc("risk_score", np.array(in_sample), labels, draws, seed),
        "lomo": score_auc("risk_score, LOMO reference", np.array(left_out), labels, draws, seed),
    }


def main(names: list[str]) -> None:
    results = [lomo(n) for n in names or list(MARKETS)]
    print(f"{'market':<32} {'lots':>5}  {'risk_score AUC (as run)':<26} {'LOMO reference':<26}")
    for r in results:
        a, b = r["in_sample"], r["lomo"]
        print(f"{r['market']:<32} {r['lots']:>5}  {a.auc:.3f} [{a.low:.3f}, {a.high:.3f}]     "
              f"{b.auc:.3f} [{b.low:.3f}, {b.high:.3f}]")
    print(f"mean LOMO AUC: {np.mean([r['lomo'].auc for r in results]):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
