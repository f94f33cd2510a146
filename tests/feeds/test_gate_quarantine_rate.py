"""The quality gate's quarantine-rate rule (GX suite batch_ledger): critical for a file of
at least GGZY_GATE_MIN_ROWS rows, a warning for a smaller one (one bad row of two is 50%)."""

from __future__ import annotations

import datetime as dt

from feeds_helpers import finish, valid_row, write_csv

from ggzy.feeds import contract as c
from ggzy.feeds.load import load_batch
from ggzy.quality import GATE_MIN_ROWS, MAX_QUARANTINE_RATE, run_gate

TAX = c.feed_file("tax", "taxpayers")


def _deliver(tmp_path, day: dt.date, good: int, bad: int) -> None:
    folder = tmp_path / "tax" / day.isoformat()
    rows = [valid_row(TAX, i, day) for i in range(good)]
    rows += [dict(valid_row(TAX, 1000 + i, day), taxpayer_status="suspended") for i in range(bad)]
    write_csv(folder, TAX, rows)
    finish(folder, "tax", day)
    res = load_batch("tax", day, tmp_path)
    assert (res.loaded, res.quarantined) == (good, bad)


def _ledger_verdict(conn, day):
    return conn.execute("select passed, details->'batch_ledger' from ops.quality_gate where batch_date = %s "
                        "order by checked_at desc limit 1", (day,)).fetchone()


def test_small_file_warns_large_file_fails(tmp_path, conn, warehouse_url):
    assert GATE_MIN_ROWS > 2 and MAX_QUARANTINE_RATE < 0.2
    small, large = dt.date(2024, 5, 1), dt.date(2024, 5, 2)
    _deliver(tmp_path, small, good=1, bad=1)
    _deliver(tmp_path, large, good=GATE_MIN_ROWS * 2, bad=GATE_MIN_ROWS // 2)

    assert run_gate(warehouse_url, small, run_id="test")["passed"] is True
    passed, ledger = _ledger_verdict(conn, small)
    assert passed is True and ledger["critical"] == []
    assert [w["column"] for w in ledger["warnings"]] == ["quarantine_rate"]

    assert run_gate(warehouse_url, large, run_id="test")["passed"] is False
    passed, ledger = _ledger_verdict(conn, large)
    assert passed is False
    assert [f["column"] for f in ledger["critical"]] == ["quarantine_rate_gated"]


def test_a_delta_with_nothing_changed_passes(tmp_path, conn, warehouse_url):
    """Every weekend: each trading-centre file is delivered with its header and no rows.
    The day's gate passes (it failed on bids' uniqueness proportion of nothing) and
    says why the row suites did not run."""
    day = dt.date(2024, 5, 4)
    folder = tmp_path / "trading_centre" / day.isoformat()
    for ff in c.files_of("trading_centre"):
        write_csv(folder, ff, [])
    finish(folder, "trading_centre", day)
    assert load_batch("trading_centre", day, tmp_path).loaded == 0

    assert run_gate(warehouse_url, day, run_id="test")["passed"] is True
    details = conn.execute("select details from ops.quality_gate where batch_date = %s order by checked_at desc "
                           "limit 1", (day,)).fetchone()[0]
    assert details["trading_centre__bids"] == {"checked": False, "rows": 0, "reason": "delivered without data rows"}
    assert details["tax__taxpayers"]["reason"] == "no batch loaded for this date"


def test_ggzy_gate_exit_code_tells_pass_from_fail(tmp_path, conn, warehouse_url, monkeypatch):
    """`ggzy gate` exited 0 when the gate failed (issue 16): scripts and CI could not tell."""
    from click.testing import CliRunner

    from ggzy.commands.bench_pipeline import gate

    good, bad = dt.date(2024, 5, 6), dt.date(2024, 5, 7)
    _deliver(tmp_path, good, good=GATE_MIN_ROWS, bad=0)
    _deliver(tmp_path, bad, good=GATE_MIN_ROWS * 2, bad=GATE_MIN_ROWS // 2)
    monkeypatch.setenv("GGZY_WAREHOUSE_URL", warehouse_url)
    passed = CliRunner().invoke(gate, ["--date", good.isoformat()])
    assert passed.exit_code == 0, passed.output
    failed = CliRunner().invoke(gate, ["--date", bad.isoformat()])
    assert failed.exit_code == 1 and "quality gate FAILED" in failed.output



def test_ggzy_outputs_exits_1_when_publication_is_refused(tmp_path, conn, warehouse_url, monkeypatch):
    """A date whose gate failed is not published; the command says so and exits 1."""
    from click.testing import CliRunner

    from ggzy.commands.bench_pipeline import outputs

    bad = dt.date(2024, 5, 8)
    _deliver(tmp_path, bad, good=GATE_MIN_ROWS * 2, bad=GATE_MIN_ROWS // 2)
    assert run_gate(warehouse_url, bad, run_id="test")["passed"] is False
    monkeypatch.setenv("GGZY_WAREHOUSE_URL", warehouse_url)
    res = CliRunner().invoke(outputs, ["--date", bad.isoformat(), "--only", "publication"])
    assert res.exit_code == 1 and f"publication for {bad} REFUSED: quality gate failed" in res.output, res.output
