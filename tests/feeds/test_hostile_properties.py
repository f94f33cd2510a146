"""Property-based tests of the loader (hypothesis): valid batches of every format,
corrupted at random (bytes, columns, quoting, encodings, truncation, nesting,
long lines), loaded through `load_range` into the real warehouse. Whatever the
damage: no unhandled exception (no "unexpected loader error", no COPY failure:
the client's checks must catch what PostgreSQL would choke on), the ledger
balances against the rows in raw and quarantine, and every refusal and every
quarantined row names its file (and a quarantined row its physical line)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest
from feeds_helpers import valid_row
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ggzy.feeds import contract as c
from ggzy.feeds import rules as r
from ggzy.feeds.load import load_range

# Modest: each example is a real load (~0.1-0.3 s); the whole module stays under 2 minutes.
settings.register_profile("loader", max_examples=100, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
DAY = date(2024, 9, 2)
# Small limits, so that long lines, long values and deep nesting are cheap to make.
LIMITS = {"GGZY_MAX_LINE_BYTES": "4096", "GGZY_MAX_FIELD_BYTES": "1024", "GGZY_MAX_JSON_DEPTH": "8"}


def _csv(ff: c.FeedFile, rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n" if ff.fmt == c.CSV_GB18030 else "\n")
    w.writerow(ff.column_names)
    for row in rows:
        w.writerow([row.get(n, "") for n in ff.column_names])
    return buf.getvalue().encode("gb18030" if ff.fmt == c.CSV_GB18030 else "utf-8")


def _base() -> dict[str, dict[str, bytes]]:
    """One valid batch per feed, with the export variants the loader accepts."""
    ten, bids = c.feed_file("trading_centre", "tenders"), c.feed_file("trading_centre", "bids")
    proj, tax = c.feed_file("approval", "projects"), c.feed_file("tax", "taxpayers")
    tenders = [valid_row(ten, i, DAY) for i in range(5)]
    tenders[1]["tender_name"] = '滇中"引水"工程,\n第二标段'  # quotes, comma and a line break inside a field
    taxpayers = [dict(valid_row(tax, i, DAY), entity_name=f"𠀀云南企业{i}") for i in range(5)]  # 4-byte GB18030
    objs = [{k: v for k, v in valid_row(proj, i, DAY).items() if v != ""} for i in range(5)]
    return {
        "trading_centre": {ten.name: _csv(ten, tenders), bids.name: _csv(bids, [valid_row(bids, i, DAY) for i in range(5)])},
        "approval": {proj.name: b"".join(json.dumps(o, ensure_ascii=False).encode() + b"\n" for o in objs)},
        "tax": {tax.name: _csv(tax, taxpayers)},
    }


BASE = _base()
NASTY = [b'"', b",", b"\n", b"\r\n", b"\r", b"\x00", b"\xff", b"\xc3", b"\x81", b"{", b"[", b"}", b"\\",
         b"\xef\xbb\xbf", "云".encode(), "云".encode("gb18030")]


@st.composite
def corruption(draw, data: bytes, fmt: str):
    """One random damage of a file's bytes."""
    n = len(data)
    kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "drop_column", "encoding", "nest",
                                 "long_line", "long_value", "quote", "blank_lines"]))
    p = draw(st.integers(0, max(0, n - 1)))
    body = data.find(b"\n") + 1  # hypothesis favours small positions: move most of them past a CSV header
    if fmt != c.JSONL and 0 < body < n and draw(st.integers(0, 3)):
        p = body + p % (n - body)
    if kind == "flip":
        return data[:p] + bytes([draw(st.integers(0, 255))]) + data[p + 1:]
    if kind == "insert":
        return data[:p] + draw(st.sampled_from(NASTY) | st.binary(min_size=1, max_size=8)) + data[p:]
    if kind == "delete":
        return data[:p] + data[p + draw(st.integers(1, 40)):]
    if kind == "truncate":
        return data[:p]
    if kind == "drop_column" and fmt != c.JSONL:
        head, _, rest = data.partition(b"\n")
        cols = head.split(b",")
        del cols[draw(st.integers(0, len(cols) - 1))]
        return b",".join(cols) + b"\n" + rest
    if kind == "encoding":  # the file in the other encoding (or Latin-1 read as UTF-8)
        text = data.decode("gb18030" if fmt == c.CSV_GB18030 else "utf-8", "replace")
        return text.encode(draw(st.sampled_from(["utf-8", "gb18030", "utf-16"]))) if fmt == c.CSV_GB18030 else \
            text.encode(draw(st.sampled_from(["gb18030", "utf-16", "utf-8-sig"])))
    if kind == "nest":
        depth = draw(st.integers(1, 40))
        value = b"[" * depth + b"1" + b"]" * depth
        return data[:p] + (b'{"project_name": ' + value + b"}\n" if fmt == c.JSONL else value) + data[p:]
    if kind == "long_line":
        return data[:p] + b"x" * draw(st.integers(1000, 20_000)) + data[p:]
    if kind == "long_value":
        return data[:p] + "长".encode() * draw(st.integers(300, 1500)) + data[p:]
    if kind == "quote":
        return data[:p] + b'"' + data[p:]
    return data[:p] + b"\n\n \n" + data[p:]  # blank_lines (also drop_column on JSONL)


def _rows(data: bytes, fmt: str) -> int:
    """Data rows as an upstream system would count them (records, not lines)."""
    if fmt == c.JSONL:
        return sum(1 for ln in data.split(b"\n") if ln.strip())
    text = data.decode("gb18030" if fmt == c.CSV_GB18030 else "utf-8", "replace")
    return max(sum(1 for rec in csv.reader(io.StringIO(text, newline="")) if rec) - 1, 0)


@st.composite
def damaged_batch(draw):
    feed = draw(st.sampled_from(sorted(BASE)))
    files = dict(BASE[feed])
    name = draw(st.sampled_from(sorted(files)))
    fmt = c.feed_file(feed, name).fmt
    data = files[name]
    for _ in range(draw(st.integers(1, 3))):
        data = draw(corruption(data, fmt))
    files[name] = data
    manifest_kind = draw(st.sampled_from(["recounted"] * 5 + ["original"]))  # original: a sha256 mismatch
    return feed, files, manifest_kind


def _write(root: Path, feed: str, files: dict[str, bytes], manifest_kind: str) -> None:
    folder = root / feed / DAY.isoformat()
    folder.mkdir(parents=True)
    entries = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        fmt = c.feed_file(feed, name).fmt
        src = BASE[feed][name] if manifest_kind == "original" else data
        entries.append({"name": name, "rows": _rows(src, fmt), "sha256": hashlib.sha256(src).hexdigest()})
    (folder / "manifest.json").write_text(json.dumps({"feed": feed, "batch_date": DAY.isoformat(), "files": entries}))


@pytest.fixture()
def small_limits(monkeypatch):
    for k, v in LIMITS.items():
        monkeypatch.setenv(k, v)


@settings(settings.get_profile("loader"))
@given(damaged_batch())
def test_any_damage_is_a_refusal_or_a_quarantine_and_the_ledger_balances(conn, warehouse_url, small_limits, case):
    feed, files, manifest_kind = case
    root = Path(tempfile.mkdtemp(prefix="ggzy-hostile-"))
    try:
        _write(root, feed, files, manifest_kind)
        (res,) = load_range(root, DAY, DAY, [feed], url=warehouse_url, workers=1)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    where = f"{feed}/{DAY.isoformat()}"
    if res.status == "refused":
        assert res.refusal.startswith(f"batch {where} file "), res.refusal  # names the file
        assert "unexpected loader error" not in res.refusal and "COPY failed" not in res.refusal, res.refusal
        assert "to do:" in res.refusal
    else:
        assert res.status == "loaded" and res.delivered == res.loaded + res.quarantined
    for file, line, rule, message in conn.execute(
            "select file, line, rule, message from raw.quarantine where feed = %s and batch_date = %s", (feed, DAY)):
        assert file in files and line >= 1 and rule in r.RULES
        assert message.startswith(f"{where} {file} line {line}: rule {rule}: "), message
    status = conn.execute("select status from raw.batches where feed = %s and batch_date = %s", (feed, DAY)).fetchone()
    assert status is not None
    for file, dl, ld, qu in conn.execute("select file, rows_delivered, rows_loaded, rows_quarantined "
                                         "from raw.batch_files where feed = %s and batch_date = %s", (feed, DAY)):
        ff = c.feed_file(feed, file)
        n_raw = conn.execute(f'select count(*) from raw."{ff.table}" where _batch_date = %s', (DAY,)).fetchone()[0]
        n_q = conn.execute("select count(*) from raw.quarantine where feed = %s and batch_date = %s and file = %s",
                           (feed, DAY, file)).fetchone()[0]
        assert (n_raw, n_q) == (ld, qu) and dl == ld + qu
