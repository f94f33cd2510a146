"""Determinism, ground truth that a correct detector reproduces, and linear scaling."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path

from conftest import END, SEED, START, read_truth
from detect import DETERMINISTIC, compare

from ggzy.generator import generate
from ggzy.generator.calendar import day_number
from ggzy.generator.world import build_world

REPO = Path(__file__).resolve().parents[2]


def digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_inputs_give_byte_identical_files(landing, shards, tmp_path):
    again = tmp_path / "again"
    generate(again, START, END, scale=0.01 * shards, seed=SEED, bad_row_rate=0.03, shards=shards)
    assert digest(again) == digest(landing)


def test_another_seed_gives_another_world(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    day = dt.date(2026, 5, 6)
    generate(a, day, day, scale=0.005, seed=1)
    generate(b, day, day, scale=0.005, seed=2)
    assert digest(a) != digest(b)


def test_anomaly_rule_ids_and_subjects_exist(landing):
    with (REPO / "dbt_project" / "seeds" / "risk_rules.csv").open(encoding="utf-8") as f:
        rules = {r["rule_id"]: r["subject_type"] for r in csv.DictReader(f)}
    ids: dict[str, set[str]] = {"tender": set(), "complaint": set(), "case": set()}
    for file, key, kind in (("tenders.csv", 0, "tender"), ("complaints.csv", 0, "complaint"), ("cases.csv", 0, "case")):
        for p in (landing / "trading_centre").glob(f"*/{file}"):
            with p.open(encoding="utf-8", newline="") as f:
                ids[kind] |= {row[key] for row in list(csv.reader(f))[1:] if row}
    truth = read_truth(landing, "anomalies.csv")
    assert truth, "the fixture has injected anomalies"
    for t in truth:
        assert t["rule_id"] in rules
        assert t["subject_type"] == rules[t["rule_id"]]
        assert t["subject_id"] in ids[t["subject_type"]], t


def test_a_correct_detector_finds_exactly_the_ground_truth(landing):
    """Injections fire and clean data does not trip the deterministic rules."""
    diff = compare(landing, END.isoformat())
    assert {r: d for r, d in diff.items() if d[0] or d[1]} == {}
    assert set(DETERMINISTIC) <= set(diff)


def test_no_anomalies_when_the_rate_is_zero():
    w, _ = build_world(day_number(START), day_number(END), 0.01, SEED, anomaly_rate=0.0)
    assert w.truth == []


def test_volume_is_linear_in_scale_and_days():
    """Lots and bids grow with scale x days (master data does not: it is the province's)."""
    def volume(scale: float, days: int) -> tuple[int, int]:
        s = day_number(dt.date(2026, 4, 1))
        w, _ = build_world(s, s + days - 1, scale, SEED, 0.0)
        return len(w.lots), sum(x.n_bids for x in w.lots)

    base = volume(0.01, 30)
    for small in (volume(0.005, 30), volume(0.01, 15)):
        for a, b in zip(small, base, strict=True):
            assert 1.4 <= b / a <= 2.8, (small, base)


def test_near_misses_look_like_anomalies_today_but_not_on_the_date_of_the_act(landing):
    """A winner whose tax status turned bad after its award is listed as a near-miss: its
    newest version is abnormal or D-rated (a rule reading today's status would fire), and
    the reference detector, which reads the version of the award date, stays quiet."""
    from detect import load

    near = [r for r in read_truth(landing, "near_misses.csv") if r["rule_id"] == "cr_tax_abnormal_winner"]
    assert near, "the fixture has tax near-misses"
    d = load(landing)
    newest = d["taxpayers"].set_index("entity_id")
    winners = d["awards"].set_index("tender_id").winner_id
    for r in near:
        now = newest.loc[winners[r["subject_id"]]]
        assert now.taxpayer_status == "abnormal" or now.credit_rating == "D", r
    found = compare(landing, END.isoformat())["cr_tax_abnormal_winner"]
    assert not {r["subject_id"] for r in near} & found[1], "near-miss flagged"
