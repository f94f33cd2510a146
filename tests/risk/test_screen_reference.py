"""The reference of competitive lots behind screen_score, and the score's formula.

- The seed dbt_project/seeds/screen_reference.csv is exactly what tests/risk/screen_reference.py
  computes from the labelled tables (nobody edits the numbers by hand).
- int_lot_price_screens.screen_score, recomputed in Python from the lot's bids and the seed,
  agrees for every lot of the risk warehouse (the SQL's interpolation and Fisher combination).
- A market whose lots are all as tight as cover bids scores high throughout: the score does not
  fix the share of lots that look suspicious.
"""

from __future__ import annotations

import psycopg
import pytest
import screen_reference as ref


def test_seed_is_what_the_labelled_tables_give():
    if not ref.CARTELS.is_dir():
        pytest.skip("labelled tables not available")
    built = [{k: str(v) for k, v in r.items()} for r in ref.build()]
    assert built == ref.read()


def test_reference_quantiles_rise_and_cover_every_bucket():
    pooled = ref.pooled(ref.read())
    for screen in ref.SCREENS:
        for bucket in (3, 4, 5, 7, 11):
            if screen == "kurt" and bucket == 3:
                continue  # kurtosis needs 4 bids
            steps = pooled[(screen, bucket)]
            assert len(steps) == 101, (screen, bucket)
            values = [v for _, v in steps]
            assert values == sorted(values), (screen, bucket)


def test_a_market_rigged_throughout_shows_as_such():
    """Lots whose bids sit within 1 % of each other, evenly spread (cover bids placed, not drawn),
    score high against the reference whatever the rest of their market looks like."""
    pooled = ref.pooled(ref.read())
    rigged = [[100.0, 100.4, 100.8, 101.2], [200.0, 200.9, 201.8, 202.7, 203.6], [50.0, 50.2, 50.4]]
    honest = [[100.0, 93.0, 108.0, 115.0], [200.0, 230.0, 185.0, 260.0, 199.0], [50.0, 57.0, 44.0]]
    for prices in rigged:
        assert ref.screen_score(ref.screens(prices), len(prices), pooled) > 0.9
    for prices in honest:
        assert ref.screen_score(ref.screens(prices), len(prices), pooled) < 0.9


def test_sql_screen_score_follows_the_formula(risk_warehouse):
    pooled = ref.pooled(ref.read())
    with psycopg.connect(risk_warehouse["url"]) as conn:
        bids: dict[str, list[float]] = {}
        for tender_id, price in conn.execute(
                """select tender_id, bid_price from intermediate.int_bids_joined_to_lots
                   where is_valid and bidder_bid_seq = 1 and bid_price > 0"""):
            bids.setdefault(tender_id, []).append(float(price))
        rows = conn.execute("select tender_id, n_bids, screen_score from intermediate.int_lot_price_screens").fetchall()
    assert len(rows) > 50
    for tender_id, n_bids, score in rows:
        expected = ref.screen_score(ref.screens(bids[tender_id]), n_bids, pooled)
        assert score == pytest.approx(expected, abs=1e-6), tender_id
