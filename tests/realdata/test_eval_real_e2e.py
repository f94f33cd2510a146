"""`ggzy eval real` end to end on an excerpt of real data: ~40 tenders of the Italy file,
through the real load, GX gate and dbt build into a scratch database."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import psycopg
import pytest

from ggzy.realdata.report import auc

ITALY = Path(__file__).resolve().parents[2].parent / "shared" / "realdata" / "cartels" / "DB_Collusion_Italy_processed.csv"


def _excerpt(tmp_path: Path, n_tenders: int = 40) -> Path:
    """Every 7th tender of the file (both classes), written at test time: no copy of the data is kept."""
    with open(ITALY, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    tenders = sorted({r["Tender"] for r in rows}, key=int)[::7][:n_tenders]
    keep = set(tenders)
    out = tmp_path / "italy_excerpt.csv"
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(r for r in rows if r["Tender"] in keep)
    return out


@pytest.mark.e2e
@pytest.mark.skipif(not ITALY.is_file(), reason="the shared real data is not on this machine")
def test_eval_real_runs_the_pipeline_and_reports(tmp_path, warehouse_url):
    path = _excerpt(tmp_path)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    lots: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        lots.setdefault(r["Tender"], []).append(r)
    labels = np.array([any(b["Collusive_competitor"] == "1" for b in bids) for bids in lots.values()])
    prices = [np.array([float(b["Bid_value"]) for b in bids]) for bids in lots.values()]
    cvs = np.array([np.std(p) / np.mean(p) for p in prices])

    env = dict(os.environ, GGZY_WAREHOUSE_URL=warehouse_url)
    ggzy = str(Path(sys.executable).with_name("ggzy"))
    proc = subprocess.run([ggzy, "eval", "real", str(path), "--draws", "200", "--workdir", str(tmp_path / "work"),
                           "--json-out", str(tmp_path / "result.json"), "--min-auc-vs-cv", "1.01"],
                          env=env, capture_output=True, text=True, timeout=900)
    # the gate option asks for the impossible (AUC more than 1 above -CV): exit 1, result still printed
    assert proc.returncode == 1, proc.stderr
    assert "Below target" in proc.stderr and "italy_excerpt" in proc.stderr
    # the table: risk_score, the baseline, the paired difference, every score, the rule rates
    for line in ("risk_score - (-cv), paired", "-cv (population sd)", "int_lot_price_screens.cv", "tender rules that fired"):
        assert line in proc.stdout
    (result,) = json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))
    assert result["lots"] == len(lots) == 40
    assert result["collusive_share"] == pytest.approx(labels.mean())
    # the baseline is -CV of the bids as published (population sd), ranked independently here
    assert result["neg_cv"]["auc"] == pytest.approx(auc(-cvs, labels), abs=1e-9)
    assert result["neg_cv"]["low"] <= result["neg_cv"]["auc"] <= result["neg_cv"]["high"]
    # ... and with the sample sd, as the file's own CV column has it
    published = np.array([float(bids[0]["CV"]) for bids in lots.values()])
    assert result["neg_cv_sample"]["auc"] == pytest.approx(auc(-published, labels), abs=0.01)
    scores = {s["score"] for s in result["scores"]}
    assert {"fct_tender_risk.risk_score", "int_lot_price_screens.cv"} <= scores
    assert result["risk_score"]["auc"] is not None
    assert result["pipeline"]["quarantined"] == 0 and result["pipeline"]["gate failed"] == 0
    # rules that judge facts the data does not have never fire on the conversion
    assert all(rule["on_bid_data"] for rule in result["rules"]), result["rules"]
    # the scratch database is dropped afterwards
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from pg_database where datname like 'ggzy_eval_%'").fetchone()[0] == 0

