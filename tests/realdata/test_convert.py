"""The converter on small hand-written labelled tables: what the loader makes of them, and
what a user of the data would check (prices, firms, dates, labels)."""

from __future__ import annotations

import csv
import datetime as dt
import statistics
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from ggzy.realdata.convert import InputError, convert, read_table, scale_prices

NAMED = """Tender,Date,Competitors,Bid_value,Winner,Collusive_competitor
7,1982,A1,0.140,1,0
7,1982,B2,0.150,0,0
7,1982,C3,0.1525,0,0
3,1981,A1,0.123,0,1
3,1981,B2,0.1199999999999999,1,1
3,1981,D4,0.131,0,0
9,1985,C3,0.2,1,0
"""

ANONYMOUS = """Bid_value,Collusive_competitor,Tender,Date,Winner
235254.7,1,1,366,0.0
210899.15,1,1,366,1.0
224101.25,1,1,366,0.0
99000,0,2,400,1.0
99500.5,0,2,400,0.0
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _rows(landing: Path, feed: str, name: str) -> list[dict[str, str]]:
    out = []
    for folder in sorted((landing / feed).iterdir()):
        if (folder / name).is_file():
            with open(folder / name, newline="", encoding="utf-8") as fh:
                out.extend(csv.DictReader(fh))
    return out


def test_named_firms_dates_prices_and_labels(tmp_path):
    conv = convert(_write(tmp_path, "named.csv", NAMED), tmp_path / "landing", "named")
    # lots follow the Date column: tender 3 (1981) first, then 7 (1982), then 9 (1985)
    assert [lot.source_tender for lot in conv.lots] == ["3", "7", "9"]
    assert [lot.collusive for lot in conv.lots] == [True, False, False]
    tenders = {t["tender_id"]: t for t in _rows(conv.landing, "trading_centre", "tenders.csv")}
    deadlines = [tenders[lot.tender_id]["bid_deadline"] for lot in conv.lots]
    assert deadlines == sorted(deadlines) and deadlines[0].startswith("2025-")
    bids = _rows(conv.landing, "trading_centre", "bids.csv")
    by_lot: dict[str, list[dict[str, str]]] = {}
    for b in bids:
        by_lot.setdefault(b["tender_id"], []).append(b)
    # ratios exact, the file's 4-decimal grain kept (0.1525 -> a whole multiple of 10^k/10^4),
    # the float artefact 0.1199999999999999 snapped to 0.12
    prices = [Decimal(b["bid_price"]) for b in by_lot[conv.lots[1].tender_id]]
    assert prices[1] / prices[0] == Decimal("0.150") / Decimal("0.140")
    assert prices[2] / prices[0] == Decimal("0.1525") / Decimal("0.140")
    assert Decimal(by_lot[conv.lots[0].tender_id][1]["bid_price"]) / prices[0] == Decimal("0.12") / Decimal("0.14")
    assert all(Decimal(b["bid_price"]) == Decimal(b["bid_price"]).quantize(Decimal("0.01")) for b in bids)
    # a named firm keeps one id across lots: A1 bids in lots 3 and 7, B2 too
    assert by_lot[conv.lots[0].tender_id][0]["bidder_id"] == by_lot[conv.lots[1].tender_id][0]["bidder_id"]
    assert len({b["bidder_id"] for b in bids}) == 4
    awards = {a["tender_id"]: a for a in _rows(conv.landing, "trading_centre", "awards.csv")}
    assert awards[conv.lots[0].tender_id]["winner_id"] == by_lot[conv.lots[0].tender_id][1]["bidder_id"]
    assert conv.firms_named and not any("anonymous" in n for n in conv.notes)


def test_anonymous_firms_one_per_bid_and_said_so(tmp_path):
    conv = convert(_write(tmp_path, "anon.csv", ANONYMOUS), tmp_path / "landing", "anon")
    bids = _rows(conv.landing, "trading_centre", "bids.csv")
    assert len({b["bidder_id"] for b in bids}) == len(bids) == 5
    assert not conv.firms_named
    assert any("networks cannot be measured" in n for n in conv.notes)
    # 0.05-grain prices with up to 2 decimals stay on their grain (x 10^k only)
    assert any("grain" in n for n in conv.notes)
    first = [235254.7, 210899.15, 224101.25]
    assert conv.lots[0].neg_cv() == pytest.approx(-statistics.pstdev(first) / statistics.mean(first))
    assert conv.lots[0].neg_cv(1) == pytest.approx(-statistics.stdev(first) / statistics.mean(first))


def test_loader_takes_every_converted_row(tmp_path, warehouse_url):
    from ggzy.feeds.load import load_range
    from ggzy.realdata.run import create_database, drop_database

    conv = convert(_write(tmp_path, "named.csv", NAMED), tmp_path / "landing", "unit_named")
    url = create_database(warehouse_url, "ggzy_eval_unit_named")
    try:
        results = load_range(conv.landing, conv.batch_dates[0], conv.batch_dates[-1], url=url, workers=1)
        assert results and all(r.status == "loaded" for r in results), [r.refusal for r in results]
        assert sum(r.delivered for r in results) == sum(r.loaded for r in results) > 0
        assert sum(r.quarantined for r in results) == 0
        with psycopg.connect(url) as conn:
            n_bids = conn.execute("select count(*) from raw.trading_centre__bids").fetchone()[0]
        assert n_bids == 7
    finally:
        drop_database(warehouse_url, "ggzy_eval_unit_named")


@pytest.mark.parametrize(("text", "line", "rule"), [
    ("Tender,Bid_value,Winner\n1,2.0,1\n", 1, "missing_column"),
    ("Tender,Bid_value,Winner,Collusive_competitor\n1,2.0,1,0\n1,abc,0,0\n", 3, "price_not_a_number"),
    ("Tender,Bid_value,Winner,Collusive_competitor\n1,-2.0,1,0\n", 2, "price_not_positive"),
    ("Tender,Bid_value,Winner,Collusive_competitor\n1,2.0,yes please,0\n", 2, "label_not_0_1"),
    ("Tender,Bid_value,Winner,Collusive_competitor\n,2.0,1,0\n", 2, "tender_missing"),
    ("Tender,Bid_value,Winner,Collusive_competitor\n", 1, "no_rows"),
])
def test_bad_tables_name_file_line_and_rule(tmp_path, text, line, rule):
    path = _write(tmp_path, "bad.csv", text)
    with pytest.raises(InputError) as err:
        read_table(path)
    assert err.value.line == line and err.value.rule == rule
    assert str(path) in str(err.value) and f"line {line}" in str(err.value)


def test_not_utf8_is_named(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("Tender,Bid_value,Winner,Collusive_competitor\n1,2.0,1,0\n2,3.0,1,0 标段\n".encode("gb18030"))
    with pytest.raises(InputError) as err:
        read_table(path)
    assert err.value.rule == "not_utf8" and "line 3" in str(err.value)
    header = tmp_path / "gbk_header.csv"
    header.write_bytes("标段,Bid_value,Winner,Collusive_competitor\n1,2.0,1,0\n".encode("gb18030"))
    with pytest.raises(InputError) as err:
        read_table(header)
    assert err.value.rule == "not_utf8" and "line 1" in str(err.value)


def test_scaling_keeps_ratios_and_grain():
    prices = [Decimal("0.14"), Decimal("0.1525"), Decimal("0.0782999999999999")]
    scaled, k, decimals, snapped = scale_prices(prices)
    assert decimals == 4 and snapped == 1
    assert scaled[1] / scaled[0] == Decimal("0.1525") / Decimal("0.14")
    assert scaled[2] == Decimal("0.0783") * Decimal(10) ** k
    assert scaled[0] >= Decimal(100_000)
    assert dt.date(2025, 1, 1)  # the converted year has a holiday calendar (seed runs to 2026)
