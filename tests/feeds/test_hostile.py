"""The hostile corpus of issue 16: one batch per fault, written here byte by byte
(big cases streamed into tmp at test time, never committed). Each fault must be a
refused batch with a clear reason or a quarantined row with file, line and rule;
never an unhandled exception, never a stopped range, never an unbalanced ledger."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from feeds_helpers import valid_row

from ggzy.feeds import contract as c
from ggzy.feeds import rules as r
from ggzy.feeds.load import BatchHeld, BatchRefused, horizon, load_batch, load_range

TEN = c.feed_file("trading_centre", "tenders")
BIDS = c.feed_file("trading_centre", "bids")
PROJ = c.feed_file("approval", "projects")
TAX = c.feed_file("tax", "taxpayers")
SECRET = "root-only secret line 7f3a"


def csv_bytes(ff: c.FeedFile, rows: list[dict], header: list[str] | None = None) -> bytes:
    header = header or list(ff.column_names)
    encoding = "gb18030" if ff.fmt == c.CSV_GB18030 else "utf-8"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([row.get(h, "") for h in header])
    return buf.getvalue().encode(encoding)


def jsonl_bytes(rows: list[dict]) -> bytes:
    return b"".join(json.dumps(x, ensure_ascii=False).encode() + b"\n" for x in rows)


def deliver(root: Path, feed: str, day: date, files: dict[str, bytes], rows: dict[str, int]) -> Path:
    """A batch folder with these files and a manifest stating `rows` data rows per file
    (as the producer counts records), sha256 of the bytes written."""
    folder = root / feed / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    doc = {"feed": feed, "batch_date": day.isoformat(), "produced_at": f"{day.isoformat()}T23:00:00+08:00",
           "files": [{"name": n, "rows": rows[n], "sha256": hashlib.sha256(d).hexdigest()}
                     for n, d in files.items()]}
    (folder / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")
    return folder


def quarantine(conn, feed: str, day: date) -> list[tuple]:
    return conn.execute("select file, line, rule, message, raw_record from raw.quarantine where feed = %s and "
                        "batch_date = %s order by file, line", (feed, day)).fetchall()


def ledger(conn, feed: str, day: date) -> tuple | None:
    return conn.execute("select status, rows_delivered, rows_loaded, rows_quarantined, refusal, last_refusal "
                        "from raw.batches where feed = %s and batch_date = %s", (feed, day)).fetchone()


def assert_balanced(conn, feed: str, day: date) -> None:
    """delivered = loaded + quarantined, per file, against the rows really in raw and quarantine."""
    for file, dl, ld, qu in conn.execute("select file, rows_delivered, rows_loaded, rows_quarantined "
                                         "from raw.batch_files where feed = %s and batch_date = %s", (feed, day)):
        ff = c.feed_file(feed, file)
        n_raw = conn.execute(f'select count(*) from raw."{ff.table}" where _batch_date = %s', (day,)).fetchone()[0]
        n_q = conn.execute("select count(*) from raw.quarantine where feed = %s and batch_date = %s and file = %s",
                           (feed, day, file)).fetchone()[0]
        assert (n_raw, n_q) == (ld, qu) and dl == ld + qu, (feed, day, file, dl, ld, qu, n_raw, n_q)


def projects(n: int, day: date) -> list[dict]:
    return [{k: v for k, v in valid_row(PROJ, i, day).items() if v != ""} for i in range(n)]


# --- JSON Lines: nesting, NUL, size ---------------------------------------------------------


@pytest.mark.parametrize("depth", [50_000, 200_000])
def test_deeply_nested_json_line_is_quarantined_not_a_crash(tmp_path, conn, warehouse_url, depth):
    """Was: `stack depth limit exceeded` from PostgreSQL, no ledger row, the range stopped."""
    day = date(2024, 6, 1) + timedelta(days=depth // 50_000)
    good = projects(3, day)
    deep = b'{"project_code": ' + b"[" * depth + b"]" * depth + b"}\n"
    data = jsonl_bytes(good[:2]) + deep + jsonl_bytes(good[2:])
    deliver(tmp_path, "approval", day, {PROJ.name: data}, {PROJ.name: 4})
    res = load_batch("approval", day, tmp_path, warehouse_url)
    assert (res.loaded, res.quarantined) == (3, 1)
    (file, line, rule, msg, _rec), = quarantine(conn, "approval", day)
    assert (file, line, rule) == (PROJ.name, 3, r.JSON_DEPTH)
    assert msg.startswith(f"approval/{day} projects.jsonl line 3: rule json_depth: nested deeper than")
    assert_balanced(conn, "approval", day)


def test_nul_byte_in_a_json_line_quarantines_that_line(tmp_path, conn, warehouse_url):
    """Was: the write to the quarantine itself failed (jsonb cannot hold U+0000)."""
    day = date(2024, 6, 10)
    good = projects(3, day)
    bad = json.dumps(dict(good[1], project_name="A\x00B")).encode().replace(b"\\u0000", b"\x00")
    assert b"\x00" in bad
    data = jsonl_bytes(good[:1]) + bad + b"\n" + jsonl_bytes(good[2:])
    deliver(tmp_path, "approval", day, {PROJ.name: data}, {PROJ.name: 3})
    res = load_batch("approval", day, tmp_path, warehouse_url)
    assert (res.loaded, res.quarantined) == (2, 1)
    (file, line, rule, msg, rec), = quarantine(conn, "approval", day)
    assert (line, rule) == (2, r.ENCODING) and "NUL byte" in msg
    assert "\\x00" in rec["_text"]
    assert_balanced(conn, "approval", day)


def test_a_200_mb_json_line_is_quarantined_in_bounded_memory(tmp_path, conn, warehouse_url):
    """Was: `invalid memory alloc` after 134 s with one server process at 11.9 GB. The line
    is streamed into tmp (never committed); the loader drops its bytes as they come."""
    day = date(2024, 6, 11)
    good = projects(2, day)
    folder = tmp_path / "approval" / day.isoformat()
    folder.mkdir(parents=True)
    h = hashlib.sha256()
    with open(folder / PROJ.name, "wb") as fh:
        for part in (jsonl_bytes(good[:1]), b'{"project_name": "'):
            fh.write(part)
            h.update(part)
        chunk = b"x" * (1 << 20)
        for _ in range(200):
            fh.write(chunk)
            h.update(chunk)
        tail = b'"}\n' + jsonl_bytes(good[1:])
        fh.write(tail)
        h.update(tail)
    doc = {"feed": "approval", "batch_date": day.isoformat(), "files": [
        {"name": PROJ.name, "rows": 3, "sha256": h.hexdigest()}]}
    (folder / "manifest.json").write_text(json.dumps(doc))
    tracemalloc.start()
    t = time.monotonic()
    try:
        res = load_batch("approval", day, tmp_path, warehouse_url)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - t < 60
    assert peak < 64 << 20, f"client peak {peak / 1e6:.0f} MB"
    assert (res.loaded, res.quarantined) == (2, 1)
    (_f, line, rule, msg, rec), = quarantine(conn, "approval", day)
    assert (line, rule) == (2, r.TOO_LONG) and "GGZY_MAX_LINE_BYTES" in msg
    assert len(rec["_text"]) <= 200
    assert_balanced(conn, "approval", day)


def test_a_long_field_is_quarantined(tmp_path, conn, warehouse_url):
    """Was: a 200 MB field stored without any size limit. One value over
    GGZY_MAX_FIELD_BYTES (64 KiB) in a CSV line shorter than the line limit."""
    day = date(2024, 6, 12)
    rows = [valid_row(TEN, i, day) for i in range(3)]
    rows[1]["tender_name"] = "长" * 30_000  # 90,000 bytes of UTF-8
    deliver(tmp_path, "trading_centre", day, {TEN.name: csv_bytes(TEN, rows)}, {TEN.name: 3})
    res = load_batch("trading_centre", day, tmp_path, warehouse_url)
    assert (res.loaded, res.quarantined) == (2, 1)
    (_f, line, rule, msg, _rec), = quarantine(conn, "trading_centre", day)
    assert (line, rule) == (3, r.TOO_LONG) and "column tender_name is 90,000 bytes" in msg
    assert_balanced(conn, "trading_centre", day)


# --- Bytes of CSV rows ------------------------------------------------------------------------


def test_invalid_utf8_quarantines_one_row_with_its_line(tmp_path, conn, warehouse_url):
    """Was: the whole day refused, and the line in the message one too low."""
    day = date(2024, 6, 13)
    rows = [valid_row(TEN, i, day) for i in range(4)]
    rows[1]["tender_name"] = "多行\n名称"  # lines 3-4: a quoted record spanning two lines
    data = csv_bytes(TEN, rows).replace(rows[2]["tender_name"].encode(), b"bad \xff\xfe name")
    deliver(tmp_path, "trading_centre", day, {TEN.name: data}, {TEN.name: 4})
    res = load_batch("trading_centre", day, tmp_path, warehouse_url)
    assert (res.loaded, res.quarantined) == (3, 1)
    (_f, line, rule, msg, rec), = quarantine(conn, "trading_centre", day)
    assert (line, rule) == (5, r.ENCODING) and "not valid UTF-8" in msg
    assert "\\xff\\xfe" in rec["_text"]
    assert_balanced(conn, "trading_centre", day)


def test_broken_gb18030_quarantines_one_tax_row(tmp_path, conn, warehouse_url):
    day = date(2024, 6, 14)
    rows = [valid_row(TAX, i, day) for i in range(3)]
    for i, row in enumerate(rows):
        row["entity_name"] = f"云南测试企业{i}"
    data = csv_bytes(TAX, rows)
    data = data.replace("云南测试企业1".encode("gb18030"), "云南".encode("gb18030") + b"\x81\x20")  # lead byte, no trail
    deliver(tmp_path, "tax", day, {TAX.name: data}, {TAX.name: 3})
    res = load_batch("tax", day, tmp_path, warehouse_url)
    assert (res.loaded, res.quarantined) == (2, 1)
    (_f, line, rule, msg, _rec), = quarantine(conn, "tax", day)
    assert (line, rule) == (3, r.ENCODING) and "not valid GB18030" in msg
    names = {x[0] for x in conn.execute("select entity_name from raw.tax__taxpayers where _batch_date = %s", (day,))}
    assert names == {"云南测试企业0", "云南测试企业2"}
    assert_balanced(conn, "tax", day)


def test_nul_byte_in_a_csv_row(tmp_path, conn, warehouse_url):
    day = date(2024, 6, 15)
    rows = [valid_row(TEN, i, day) for i in range(3)]
    data = csv_bytes(TEN, rows).replace(rows[0]["tender_name"].encode(), b"a\x00b")
    deliver(tmp_path, "trading_centre", day, {TEN.name: data}, {TEN.name: 3})
    res = load_batch("trading_centre", day, tmp_path, warehouse_url)
    assert (res.loaded, res.quarantined) == (2, 1)
    assert [(q[1], q[2]) for q in quarantine(conn, "trading_centre", day)] == [(2, r.ENCODING)]


# --- Columns ----------------------------------------------------------------------------------


def test_a_contract_column_missing_from_the_header_refuses_the_batch(tmp_path, conn, warehouse_url):
    """Was: 84 bids loaded, all with a NULL price; no warning; the gate passed."""
    day = date(2024, 6, 16)
    rows = [valid_row(BIDS, i, day) for i in range(5)]
    header = [n for n in BIDS.column_names if n != "bid_price"]
    deliver(tmp_path, "trading_centre", day, {BIDS.name: csv_bytes(BIDS, rows, header)}, {BIDS.name: 5})
    with pytest.raises(BatchRefused) as e:
        load_batch("trading_centre", day, tmp_path, warehouse_url)
    msg = str(e.value)
    assert msg.startswith(f"batch trading_centre/{day} file bids.csv: line 1: contract column(s) bid_price missing")
    assert "to do:" in msg
    assert ledger(conn, "trading_centre", day)[0] == "refused"
    assert conn.execute("select count(*) from raw.trading_centre__bids where _batch_date = %s", (day,)).fetchone()[0] == 0


def test_empty_required_values_are_quarantined_and_do_not_overwrite(tmp_path, conn, warehouse_url):
    """Was: empty announced_at and bid_price accepted; an empty announced_at overwrote a valid one."""
    d1, d2 = date(2024, 6, 17), date(2024, 6, 18)
    lot = valid_row(TEN, 1, d1)
    bids = [valid_row(BIDS, i, d2) for i in range(2)]
    deliver(tmp_path, "trading_centre", d1, {TEN.name: csv_bytes(TEN, [lot])}, {TEN.name: 1})
    load_batch("trading_centre", d1, tmp_path, warehouse_url)
    later = dict(lot, announced_at="", updated_at=f"{d2}T09:00:00+08:00")
    deliver(tmp_path, "trading_centre", d2, {TEN.name: csv_bytes(TEN, [later]),
                                             BIDS.name: csv_bytes(BIDS, [dict(bids[0], bid_price=""), bids[1]])},
            {TEN.name: 1, BIDS.name: 2})
    res = load_batch("trading_centre", d2, tmp_path, warehouse_url)
    assert (res.loaded, res.quarantined) == (1, 2)
    got = {(f, ln, rule) for f, ln, rule, _m, _r in quarantine(conn, "trading_centre", d2)}
    assert got == {(TEN.name, 2, r.REQUIRED), (BIDS.name, 2, r.REQUIRED)}
    newest = conn.execute("select announced_at from raw.trading_centre__tenders where tender_id = %s "
                          "order by updated_at desc limit 1", (lot["tender_id"],)).fetchone()[0]
    assert newest == lot["announced_at"]
    assert {"announced_at", "bid_price", "submitted_at"} <= {*TEN.required_columns, *BIDS.required_columns}


# --- Files ------------------------------------------------------------------------------------


def _outside_secret(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text(SECRET + "\n")
    return secret


def _assert_refused_unread(conn, e, feed: str, day: date, needle: str) -> None:
    msg = str(e.value)
    assert needle in msg and SECRET not in msg, msg
    status, *_x, refusal, last = ledger(conn, feed, day)
    assert status == "refused" and SECRET not in (refusal or "") and SECRET not in (last or "")
    assert not conn.execute("select 1 from raw.batch_events where message like %s", (f"%{SECRET}%",)).fetchone()


def test_a_symlinked_file_is_refused_without_being_read(tmp_path, conn, warehouse_url):
    """Was: followed, and the first line of a file outside the landing zone copied into raw.batches."""
    day = date(2024, 6, 19)
    secret = _outside_secret(tmp_path)
    folder = deliver(tmp_path / "landing", "tax", day, {TAX.name: csv_bytes(TAX, [])}, {TAX.name: 0})
    (folder / TAX.name).unlink()
    (folder / TAX.name).symlink_to(secret)
    with pytest.raises(BatchRefused) as e:
        load_batch("tax", day, tmp_path / "landing", warehouse_url)
    _assert_refused_unread(conn, e, "tax", day, "file taxpayers.csv: is a symbolic link, not a regular file")


def test_a_symlinked_batch_folder_is_refused(tmp_path, conn, warehouse_url):
    day = date(2024, 6, 20)
    real = deliver(tmp_path / "elsewhere", "tax", day, {TAX.name: csv_bytes(TAX, [valid_row(TAX, 1, day)])},
                   {TAX.name: 1})
    (tmp_path / "landing" / "tax").mkdir(parents=True)
    (tmp_path / "landing" / "tax" / day.isoformat()).symlink_to(real)
    with pytest.raises(BatchRefused) as e:
        load_batch("tax", day, tmp_path / "landing", warehouse_url)
    _assert_refused_unread(conn, e, "tax", day, f"tax/{day} is a symbolic link, not a folder")


def test_a_hard_link_to_a_file_outside_is_refused(tmp_path, conn, warehouse_url):
    day = date(2024, 6, 21)
    secret = _outside_secret(tmp_path)
    folder = deliver(tmp_path / "landing", "tax", day, {TAX.name: secret.read_bytes()}, {TAX.name: 0})
    (folder / TAX.name).unlink()
    os.link(secret, folder / TAX.name)
    with pytest.raises(BatchRefused) as e:
        load_batch("tax", day, tmp_path / "landing", warehouse_url)
    _assert_refused_unread(conn, e, "tax", day, "file taxpayers.csv: has 2 hard links")


def test_a_fifo_is_refused_without_blocking(tmp_path, conn, warehouse_url):
    day = date(2024, 6, 22)
    folder = deliver(tmp_path, "tax", day, {TAX.name: b""}, {TAX.name: 0})
    (folder / TAX.name).unlink()
    os.mkfifo(folder / TAX.name)
    t = time.monotonic()
    with pytest.raises(BatchRefused) as e:
        load_batch("tax", day, tmp_path, warehouse_url)
    assert time.monotonic() - t < 10
    assert "file taxpayers.csv: is a FIFO (named pipe), not a regular file; it was not read" in str(e.value)


def test_a_tampered_header_is_a_checksum_mismatch(tmp_path, conn, warehouse_url):
    """Was: reported as a missing column (the header was read before the hash was checked)."""
    day = date(2024, 6, 23)
    folder = deliver(tmp_path, "tax", day, {TAX.name: csv_bytes(TAX, [valid_row(TAX, 1, day)])}, {TAX.name: 1})
    p = folder / TAX.name
    p.write_bytes(p.read_bytes().replace(b"taxpayer_status", b"taxpayer_state", 1))
    with pytest.raises(BatchRefused) as e:
        load_batch("tax", day, tmp_path, warehouse_url)
    assert "file taxpayers.csv: sha256 mismatch" in str(e.value) and "column" not in str(e.value)


def test_a_deeply_nested_manifest_is_refused(tmp_path, conn, warehouse_url):
    """Was: RecursionError."""
    day = date(2024, 6, 24)
    folder = deliver(tmp_path, "tax", day, {}, {})
    (folder / "manifest.json").write_text('{"feed": "tax", "files": [], "x": ' + "[" * 2000 + "]" * 2000 + "}")
    with pytest.raises(BatchRefused) as e:
        load_batch("tax", day, tmp_path, warehouse_url)
    assert "file manifest.json: not a manifest: JSON nested too deeply" in str(e.value)


# --- Dates and the range ----------------------------------------------------------------------


def test_a_batch_dated_after_tomorrow_is_held(tmp_path, conn, warehouse_url):
    """Was: a batch dated 2031 loaded without a word and moved the default analysis date."""
    day = horizon() + timedelta(days=1)
    deliver(tmp_path, "tax", day, {TAX.name: csv_bytes(TAX, [valid_row(TAX, 1, day)])}, {TAX.name: 1})
    before = conn.execute("select max(batch_date) from raw.batches where status = 'loaded'").fetchone()[0]
    with pytest.raises(BatchHeld) as e:
        load_batch("tax", day, tmp_path, warehouse_url)
    assert f"batch tax/{day}: held: the batch is dated after {horizon()}" in str(e.value)
    assert ledger(conn, "tax", day)[0] == "refused"
    assert conn.execute("select event from raw.batch_events where feed = 'tax' and batch_date = %s",
                        (day,)).fetchone()[0] == "held"
    assert conn.execute("select max(batch_date) from raw.batches where status = 'loaded'").fetchone()[0] == before
    assert not conn.execute("select 1 from raw.tax__taxpayers where _batch_date = %s", (day,)).fetchone()


def test_a_range_goes_on_past_refused_and_crashing_batches_and_reports(tmp_path, conn, warehouse_url, monkeypatch):
    """Was: a crash ended the run (later batches never tried), and a folder 2026-02-30 was
    skipped silently with exit code 0."""
    from ggzy.commands.load import load as load_cmd
    from ggzy.feeds import server

    days = [date(2024, 7, d) for d in (1, 2, 3, 4)]
    for d in days:
        deliver(tmp_path, "tax", d, {TAX.name: csv_bytes(TAX, [valid_row(TAX, 1, d)])}, {TAX.name: 1})
    (tmp_path / "tax" / days[0].isoformat() / "manifest.json").write_text("{not json")
    (tmp_path / "tax" / "2024-02-30").mkdir()
    (tmp_path / "tax" / "latest").mkdir()
    (tmp_path / "tax" / "2024-W27-1").mkdir()  # an ISO week date: Python reads it as 2024-07-01
    real_run = server.FileLoader.run

    def run(self):  # a loader bug on one day only
        if self.day == days[2]:
            raise RuntimeError("simulated loader bug")
        return real_run(self)

    monkeypatch.setattr(server.FileLoader, "run", run)
    problems: list = []
    results = load_range(tmp_path, days[0], days[-1], ["tax"], url=warehouse_url, problems=problems)
    assert [(x.batch_date, x.status) for x in results] == [(days[0], "refused"), (days[1], "loaded"),
                                                           (days[2], "refused"), (days[3], "loaded")]
    assert "manifest.json: not valid JSON" in results[0].refusal
    assert "unexpected loader error RuntimeError: simulated loader bug" in results[2].refusal
    assert {p.folder for p in problems} == {"2024-02-30", "latest", "2024-W27-1"}
    rows = conn.execute("select folder, problem from ops.landing_problems where feed = 'tax'").fetchall()
    assert {"2024-02-30", "latest"} <= {f for f, _p in rows}
    for d in days:
        assert_balanced(conn, "tax", d)

    monkeypatch.setenv("GGZY_WAREHOUSE_URL", warehouse_url)
    out = CliRunner().invoke(load_cmd, ["--landing", str(tmp_path), "--from", "2024-07-01", "--to", "2024-07-04",
                                        "--feed", "tax"])
    assert out.exit_code == 1, out.output
    assert "summary: 4 batches: 2 loaded, 0 skipped unchanged, 2 refused, 0 held" in out.output
    assert "tax/'2024-02-30' (a folder) is not a batch" in out.output
    empty = CliRunner().invoke(load_cmd, ["--landing", str(tmp_path), "--date", "2024-08-01", "--feed", "tax"])
    assert empty.exit_code == 1 and "no batches in" in empty.output  # asked to load, nothing there


def test_required_fields_are_stated_in_the_docs_as_in_the_contract():
    """Which fields are required is stated once in code (ggzy.feeds.contract) and listed in
    docs/architecture.md; the list must not drift from the code."""
    import re

    doc = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = {m[0]: m[1].split(", ") for m in re.findall(r"^  - `(\w+/\w+\.\w+)`: (.+)$", doc, re.M)}
    assert listed == {f"{ff.feed}/{ff.name}": list(ff.required_columns) for ff in c.FILES}


def test_a_csv_line_longer_than_a_read_block_is_dropped_as_it_streams(tmp_path, conn, warehouse_url):
    """3 MiB without a line end (over GGZY_MAX_LINE_BYTES and over the 1 MiB read block):
    quarantined at its line; the rows after it load with their own line numbers."""
    day = date(2024, 6, 25)
    rows = [valid_row(TEN, i, day) for i in range(3)]
    rows[1]["tender_name"] = "x" * (3 << 20)
    deliver(tmp_path, "trading_centre", day, {TEN.name: csv_bytes(TEN, rows)}, {TEN.name: 3})
    res = load_batch("trading_centre", day, tmp_path, warehouse_url)
    assert (res.loaded, res.quarantined) == (2, 1)
    assert [(q[1], q[2]) for q in quarantine(conn, "trading_centre", day)] == [(3, r.TOO_LONG)]
    lines = [x[0] for x in conn.execute("select _line from raw.trading_centre__tenders where _batch_date = %s "
                                        "order by 1", (day,))]
    assert lines == [2, 4]


def test_oversized_manifest_and_header_are_refused(tmp_path, conn, warehouse_url):
    day = date(2024, 6, 26)
    folder = deliver(tmp_path, "tax", day, {}, {})
    (folder / "manifest.json").write_bytes(b'{"feed": "tax", "files": [], "pad": "' + b"x" * (2 << 20) + b'"}')
    with pytest.raises(BatchRefused) as e:
        load_batch("tax", day, tmp_path, warehouse_url)
    assert "file manifest.json: is 2,097,191 bytes, more than the 1,048,576 allowed" in str(e.value)

    day = date(2024, 6, 27)
    header = list(TAX.column_names) + [f"x{i}" for i in range(500)]
    deliver(tmp_path, "tax", day, {TAX.name: csv_bytes(TAX, [], header)}, {TAX.name: 0})
    with pytest.raises(BatchRefused) as e:
        load_batch("tax", day, tmp_path, warehouse_url)
    assert "file taxpayers.csv: line 1: 500 columns that are not in the contract" in str(e.value)


@pytest.mark.parametrize("escape,needle", [("\\u0000", "holds a \\u0000 (NUL) escape"),
                                           ("\\ud800", "holds an unpaired UTF-16 surrogate escape")])
def test_a_manifest_the_ledger_cannot_store_is_refused(tmp_path, conn, warehouse_url, escape, needle):
    """Valid JSON that jsonb refuses: the refusal itself (which stores the manifest) must not crash."""
    day = date(2024, 6, 28)
    folder = deliver(tmp_path, "tax", day, {TAX.name: csv_bytes(TAX, [])}, {TAX.name: 0})
    doc = json.loads((folder / "manifest.json").read_text())
    text = json.dumps(doc)[:-1] + f', "note": "a{escape}b"}}'
    (folder / "manifest.json").write_text(text)
    with pytest.raises(BatchRefused) as e:
        load_batch("tax", day, tmp_path, warehouse_url)
    assert f"file manifest.json: {needle}" in str(e.value)
    assert ledger(conn, "tax", day)[0] == "refused"


def test_many_bad_lines_are_spooled_not_held_in_memory(tmp_path, conn, warehouse_url, monkeypatch):
    """A file of thousands of lines rejected on the client: counted, spilled to a temporary
    file past Spool.SPOOL_ROWS, and every one quarantined with its own line."""
    from ggzy.feeds.stream import Spool

    monkeypatch.setattr(Spool, "SPOOL_ROWS", 100)
    day = date(2024, 6, 29)
    good = projects(2, day)
    data = jsonl_bytes(good[:1]) + b'{"project_name": "\x00"}\n' * 1000 + jsonl_bytes(good[1:])
    deliver(tmp_path, "approval", day, {PROJ.name: data}, {PROJ.name: 1002})
    res = load_batch("approval", day, tmp_path, warehouse_url)
    assert (res.loaded, res.quarantined_by_rule) == (2, {r.ENCODING: 1000})
    lines = [q[1] for q in quarantine(conn, "approval", day)]
    assert lines == list(range(2, 1002))
    assert_balanced(conn, "approval", day)


def test_old_mac_line_ends_are_refused_by_name(tmp_path, conn, warehouse_url):
    """CR-only line ends: the whole file is one line; the header cannot be read (was an
    'unexpected loader error' from Python's csv module)."""
    day = date(2024, 6, 30)
    data = csv_bytes(TEN, [valid_row(TEN, i, day) for i in range(3)]).replace(b"\n", b"\r")
    deliver(tmp_path, "trading_centre", day, {TEN.name: data}, {TEN.name: 3})
    with pytest.raises(BatchRefused) as e:
        load_batch("trading_centre", day, tmp_path, warehouse_url)
    assert "file tenders.csv: line 1: header cannot be read as CSV" in str(e.value)
    assert "line ends must be LF or CR LF" in str(e.value) and "unexpected" not in str(e.value)


def test_a_stray_carriage_return_quarantines_its_row(tmp_path, conn, warehouse_url):
    """A CR outside quotes (found by the property test: COPY failed, 'missing data for column')."""
    day = date(2024, 7, 5)
    rows = [valid_row(TAX, i, day) for i in range(3)]
    data = csv_bytes(TAX, rows).replace(b"\n", b"\r\n")
    first = rows[1]["entity_id"].encode()
    data = data.replace(first, b"\r" + first)
    deliver(tmp_path, "tax", day, {TAX.name: data}, {TAX.name: 3})
    res = load_batch("tax", day, tmp_path, warehouse_url)
    assert (res.loaded, res.quarantined) == (2, 1)
    (_f, line, rule, msg, _rec), = quarantine(conn, "tax", day)
    assert (line, rule) == (3, r.COLUMN_COUNT) and "carriage return (CR) outside quotes" in msg
