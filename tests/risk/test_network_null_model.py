"""The co-bidding network's null model on a crowded regional market (issue 14 item 4).

A market whose firms work in local markets the data do not name meets far more often than
participation rates predict: every pair of neighbours looks like a ring. The models calibrate
their expectations to the population until no more pairs recur than rings could explain
(int_bidder_pairs_scored, var net_max_recurrent_share); a ring stands out from that crowd, and
a ring spread over ten quiet prefectures is still found province-wide.

The lots are written straight into intermediate.int_bids_joined_to_lots of a database of
their own and the two network models are built on it with dbt, as the pipeline builds them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]
GGZY = str(Path(sys.executable).with_name("ggzy"))
# builds models with dbt: a pipeline test (make test-fast leaves it out)
pytestmark = pytest.mark.pipeline
MODELS = ("int_bidder_pairs_scored", "int_lot_network_scores")
HIDDEN_MARKETS, FIRMS_PER_MARKET, LOTS_PER_MARKET = 8, 10, 20
RING_LOTS, SPREAD_PREFECTURES, FILLER_LOTS = 14, 10, 19


def lots() -> dict[str, tuple[str, list[str]]]:
    """tender_id -> (prefecture_code, bidders, the first one winning)."""
    out: dict[str, tuple[str, list[str]]] = {}
    # the crowd: 8 local markets inside prefecture 530100, 10 firms each; firm j bids in 12 of
    # the 20 lots of its market, neighbours in up to 10 of them (a fixed pattern, no randomness)
    for m in range(HIDDEN_MARKETS):
        for i in range(LOTS_PER_MARKET):
            bidders = [f"L{m}-{j}" for j in range(FIRMS_PER_MARKET) if (7 * i + 3 * j) % 10 < 6]
            out[f"L{m}-{i:02d}"] = ("530100", bidders[i % len(bidders):] + bidders[:i % len(bidders)])
    # a ring of four in the same prefecture: alone together in 14 lots, the win in turn
    ring = ["R1", "R2", "R3", "R4"]
    for i in range(RING_LOTS):
        out[f"R-{i:02d}"] = ("530100", ring[i % 4:] + ring[:i % 4])
    # a ring of three meeting once in each of ten quiet prefectures (19 single-bidder lots each)
    spread = ["S1", "S2", "S3"]
    for p in range(SPREAD_PREFECTURES):
        pref = f"{5302 + p}00"
        out[f"S-{p:02d}"] = (pref, spread[p % 3:] + spread[:p % 3])
        for k in range(FILLER_LOTS):
            out[f"F-{p:02d}-{k:02d}"] = (pref, [f"F-{p:02d}-{k:02d}"])
    return out


@pytest.fixture(scope="module")
def network_db(warehouse_url) -> dict[str, str]:
    """A database of its own on the session's server, bootstrapped, holding only these lots."""
    from ggzy import schema

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("drop database if exists ggzy_network_test with (force)")
        conn.execute("create database ggzy_network_test")
    url = urlsplit(warehouse_url)._replace(path="/ggzy_network_test").geturl()
    schema.bootstrap(url)
    rows = []
    for tender_id, (pref, bidders) in lots().items():
        for seq, bidder in enumerate(bidders):
            rows.append((tender_id, bidder, pref, bidders[0], seq == 0, 100_000 + 1_000 * seq))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema if not exists intermediate")
        conn.execute("""create table intermediate.int_bids_joined_to_lots (
            tender_id text, bidder_id text, category text, prefecture_code text, bid_date date,
            winner_id text, is_winner boolean, is_valid boolean, bid_price numeric, bidder_bid_seq integer)""")
        with conn.cursor() as cur:
            cur.executemany(
                """insert into intermediate.int_bids_joined_to_lots values
                   (%s, %s, 'construction', %s, date '2026-03-02', %s, %s, true, %s, 1)""", rows)
    return {"url": url, "env": os.environ | {"GGZY_WAREHOUSE_URL": url}}


def build(db: dict[str, str], **dbt_vars: float) -> dict[str, tuple[bool, bool]]:
    """Build the two models (with dbt vars); returns tender_id -> (is_ring_lot, is_rotation_lot)."""
    args = ["dbt", "run", "-s", *MODELS]
    if dbt_vars:
        args += ["--vars", "{" + ", ".join(f"{k}: {v}" for k, v in dbt_vars.items()) + "}"]
    subprocess.run([GGZY, *args], env=db["env"], check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    with psycopg.connect(db["url"]) as conn:
        return {t: (ring, rot) for t, ring, rot in conn.execute(
            "select tender_id, is_ring_lot, is_rotation_lot from intermediate.int_lot_network_scores")}


def crowd(flags: dict[str, tuple[bool, bool]]) -> list[str]:
    return [t for t, (ring, _) in flags.items() if t.startswith("L") and ring]


def test_a_crowded_regional_market_is_not_a_ring_but_rings_in_it_are(network_db):
    flags = build(network_db)
    assert crowd(flags) == [], "lots of the crowded market flagged as ring lots"
    ring_lots = [t for t in flags if t.startswith("R-")]
    assert len(ring_lots) == RING_LOTS
    assert all(flags[t] == (True, True) for t in ring_lots), "the ring of four in the crowd is missed"
    spread_lots = [t for t in flags if t.startswith("S-")]
    assert len(spread_lots) == SPREAD_PREFECTURES
    assert all(flags[t][0] for t in spread_lots), "the ring spread over ten prefectures is missed"
    with psycopg.connect(network_db["url"]) as conn:
        (factor,) = conn.execute(
            """select calibration from intermediate.int_bidder_pairs_scored
               where prefecture_code = '530100' limit 1""").fetchone()
        (quiet,) = conn.execute(
            "select max(calibration) from intermediate.int_bidder_pairs_scored where prefecture_code = '530200'").fetchone()
        evidence = conn.execute(
            """select recurring_pairs -> 0 from intermediate.int_lot_network_scores
               where tender_id = 'S-00'""").fetchone()[0]
    assert factor > 2, "the crowded prefecture's null is not calibrated"
    assert quiet == 1.0, "a quiet prefecture is calibrated by another's crowd"
    assert evidence["population"] == "province" and evidence["n_prefectures"] == SPREAD_PREFECTURES
    assert evidence["null_calibration"] == pytest.approx(1.0)


def test_without_calibration_the_crowd_would_alert(network_db):
    """The same lots judged by the participation null alone (no share left to calibrate on):
    most of the crowded market's lots look like rings, which is what the calibration removes."""
    flags = build(network_db, net_max_recurrent_share=1)
    assert len(crowd(flags)) > HIDDEN_MARKETS * LOTS_PER_MARKET / 2
