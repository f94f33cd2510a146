"""Injected bad rows: each listed row breaks exactly its rule; every other row breaks none.

Checked with the loader's own reference rules (ggzy.feeds.rules, python-stdnum for the
check digits), so the ground truth is what the loader must quarantine.
"""

from __future__ import annotations

from collections import Counter

from conftest import as_text_row, batch_files, physical_lines, read_truth, records

from ggzy.feeds import contract as fc
from ggzy.feeds.rules import normalize_project_code, py_project_code_ok, py_rules


def test_every_row_is_either_clean_or_listed_with_the_one_rule_it_breaks(landing):
    listed = {(b["feed"], b["batch_date"], b["file"], int(b["line"])): b["rule"]
              for b in read_truth(landing, "bad_rows.csv")}
    assert listed, "the fixture injects bad rows"
    found: dict[tuple, str] = {}
    for ff, day, path in batch_files(landing):
        lines = physical_lines(path, ff)
        first = 1 if ff.fmt == fc.JSONL else 2
        seen_lines: dict[str, int] = {}
        for line, parsed in records(path, ff):
            key = (ff.feed, day, ff.name, line)
            text = lines[line - first + (0 if ff.fmt == fc.JSONL else 1)]
            broken: list[str] = []
            if text in seen_lines:
                broken.append("duplicate_row")
            else:
                seen_lines[text] = line
            if parsed is None:
                broken.append("json_syntax")
            elif isinstance(parsed, list) and len(parsed) != len(ff.columns):
                broken.append("column_count")
            elif not broken:
                broken += py_rules(ff, as_text_row(ff, parsed))
            if broken:
                assert len(broken) == 1, (key, broken)
                found[key] = broken[0]
    assert found == listed


def test_bad_rows_spread_over_rules_and_files(landing):
    bad = read_truth(landing, "bad_rows.csv")
    rules = Counter(b["rule"] for b in bad)
    assert {"required", "duplicate_row", "uscc_check_digit", "column_count", "timestamp"} <= set(rules)
    assert len({b["file"] for b in bad}) >= 5
    assert all(b["rule"] != "project_code_format" or b["feed"] == "approval" for b in bad)


def test_messy_project_codes_normalise_and_are_not_bad(landing):
    messy = read_truth(landing, "messy_values.csv")
    bad = {(b["feed"], b["batch_date"], b["file"], b["line"]) for b in read_truth(landing, "bad_rows.csv")}
    assert messy, "every delivery has at least one messy code"
    for m in messy:
        assert (m["feed"], m["batch_date"], m["file"], m["line"]) not in bad
        assert m["detail"] == "project_code_messy"
        assert m["value"] != m["normalised"] == normalize_project_code(m["value"])
        assert py_project_code_ok(m["value"])
