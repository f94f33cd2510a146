"""The delivered batches follow the feed contract: folders, manifests, encodings, formats."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from conftest import END, START, batch_files, physical_lines, read_truth, records

from ggzy.feeds import contract as fc


def test_every_feed_has_a_batch_per_day_with_every_contract_file(landing):
    days = {(START + dt.timedelta(days=i)).isoformat() for i in range((END - START).days + 1)}
    for feed in fc.FEEDS:
        assert {p.name for p in (landing / feed).iterdir()} == days
        for day in days:
            names = {p.name for p in (landing / feed / day).iterdir()}
            assert names == {f.name for f in fc.files_of(feed)} | {"manifest.json"}


def test_manifests_match_the_files(landing):
    for feed in fc.FEEDS:
        for folder in (landing / feed).iterdir():
            m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            assert m["feed"] == feed and m["batch_date"] == folder.name
            produced = dt.datetime.fromisoformat(m["produced_at"])
            assert produced.utcoffset() == dt.timedelta(hours=8) and produced.date() > dt.date.fromisoformat(folder.name)
            assert [f["name"] for f in m["files"]] == [f.name for f in fc.files_of(feed)]
            for entry in m["files"]:
                ff = fc.feed_file(feed, entry["name"])
                path = folder / entry["name"]
                assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
                n = len(physical_lines(path, ff)) - (0 if ff.fmt == fc.JSONL else 1)
                assert entry["rows"] == n, path


def test_csv_headers_and_encodings(landing):
    saw_non_utf8_tax = False
    for ff, _, path in batch_files(landing):
        if ff.fmt == fc.JSONL:
            continue
        raw = path.read_bytes()
        if ff.fmt == fc.CSV_GB18030:
            raw.decode("gb18030")
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                saw_non_utf8_tax = True
        else:
            raw.decode("utf-8")
            assert not raw.startswith(b"\xef\xbb\xbf"), "no BOM"
        assert physical_lines(path, ff)[0].split(",") == list(ff.column_names)
    assert saw_non_utf8_tax, "tax files are GB18030, not UTF-8"


def test_jsonl_parses_except_the_injected_syntax_errors(landing):
    broken = {(b["feed"], b["batch_date"], b["file"], int(b["line"]))
              for b in read_truth(landing, "bad_rows.csv") if b["rule"] == "json_syntax"}
    seen = set()
    for ff, day, path in batch_files(landing):
        if ff.fmt != fc.JSONL:
            continue
        for line, obj in records(path, ff):
            key = (ff.feed, day, ff.name, line)
            assert (obj is None) == (key in broken), key
            if obj is None:
                seen.add(key)
            else:
                assert set(obj) <= set(ff.column_names)
    assert seen == broken


@pytest.mark.parametrize("kind", [fc.TIMESTAMP, fc.DATE, fc.MONEY])
def test_clean_values_are_in_contract_format(landing, kind):
    """Timestamps carry +08:00, dates are YYYY-MM-DD, money has at most 2 decimals (clean rows)."""
    from ggzy.feeds.rules import py_value_ok

    bad = {(b["feed"], b["batch_date"], b["file"], int(b["line"])) for b in read_truth(landing, "bad_rows.csv")}
    n = 0
    for ff, day, path in batch_files(landing):
        cols = [c for c in ff.columns if c.kind == kind]
        if not cols:
            continue
        for line, parsed in records(path, ff):
            if (ff.feed, day, ff.name, line) in bad:
                continue
            row = parsed if isinstance(parsed, dict) else dict(zip(ff.column_names, parsed, strict=True))
            for c in cols:
                v = row.get(c.name)
                if v in (None, ""):
                    continue
                v = str(v)
                assert py_value_ok(c, v), (path, line, c.name, v)
                if kind == fc.TIMESTAMP:
                    assert v.endswith("+08:00")
                n += 1
    assert n > 0
