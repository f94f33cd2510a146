"""Files that keep to the contract but not to our generator's habits: what other
exporters write. Each is written by hand (csv/json of the standard library, the
manifest computed here as the upstream system would: records, not lines), loaded,
and read back from raw value by value."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from datetime import date
from pathlib import Path

from feeds_helpers import USCC, USCC2, valid_row

from ggzy.feeds import contract as c
from ggzy.feeds.load import load_batch

ENT = c.feed_file("trading_centre", "entities")
PROJ = c.feed_file("approval", "projects")
TAX = c.feed_file("tax", "taxpayers")


def _manifest(folder: Path, feed: str, day: date, files: dict[str, int]) -> None:
    doc = {"feed": feed, "batch_date": day.isoformat(), "produced_at": f"{day.isoformat()}T23:59:59+08:00",
           "files": [{"name": n, "rows": k, "sha256": hashlib.sha256((folder / n).read_bytes()).hexdigest()}
                     for n, k in files.items()]}
    (folder / "manifest.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _raw(conn, ff: c.FeedFile, day: date, cols: list[str]) -> list[tuple]:
    select = ", ".join(f'"{n}"' for n in ["_line", *cols])
    return conn.execute(f'select {select} from raw."{ff.table}" where _batch_date = %s order by _line',
                        (day,)).fetchall()


def _quarantined(conn, feed: str, day: date) -> list[tuple]:
    return conn.execute("select file, line, rule from raw.quarantine where feed = %s and batch_date = %s",
                        (feed, day)).fetchall()


def test_csv_crlf_bom_reordered_columns_and_rfc4180_quoting(tmp_path, conn, warehouse_url):
    """An Excel-style export: BOM, CRLF after every record, columns in another
    order, quoted commas, doubled quotes, a CRLF inside a quoted field, no line
    break after the last record."""
    day = date(2024, 5, 6)
    folder = tmp_path / "trading_centre" / day.isoformat()
    folder.mkdir(parents=True)
    header = list(reversed(ENT.column_names))
    rows = [dict(valid_row(ENT, i, day), entity_id=[USCC, USCC2][i % 2]) for i in range(4)]
    rows[0]["entity_name"] = '云南"滇池"建设有限公司, 昆明分公司'
    rows[1]["address"] = "昆明市五华区\r\n人民中路 1 号"
    rows[2]["contact_name"] = ""  # empty field = null
    buf = io.StringIO()
    w = csv.writer(buf)  # the csv module's default: CRLF, minimal quoting
    w.writerow(header)
    for row in rows:
        w.writerow([row[h] for h in header])
    text = buf.getvalue()
    assert text.endswith("\r\n") and '"云南""滇池""建设有限公司, 昆明分公司"' in text
    (folder / ENT.name).write_bytes(b"\xef\xbb\xbf" + text[:-2].encode("utf-8"))
    _manifest(folder, "trading_centre", day, {ENT.name: len(rows)})

    res = load_batch("trading_centre", day, tmp_path, warehouse_url)
    f = next(x for x in res.files if x.name == ENT.name)
    assert (f.delivered, f.loaded, f.quarantined, f.extra_columns) == (4, 4, 0, [])
    assert _quarantined(conn, "trading_centre", day) == []
    cols = list(ENT.column_names)
    got = _raw(conn, ENT, day, cols)
    # physical lines: header 1, records 2, 3 (spans 3-4), 5, 6
    assert [g[0] for g in got] == [2, 3, 5, 6]
    want = [tuple(row[n] or None for n in cols) for row in rows]
    assert [g[1:] for g in got] == want


def test_jsonl_typed_values_nulls_key_order_and_crlf(tmp_path, conn, warehouse_url):
    """JSON Lines as a Java or .NET exporter writes them: a BOM, numbers as JSON numbers,
    absent and null keys for empty values, keys in any order, CRLF, no final newline."""
    day = date(2024, 5, 7)
    folder = tmp_path / "approval" / day.isoformat()
    folder.mkdir(parents=True)
    base = [valid_row(PROJ, i, day) for i in range(3)]
    objs: list[dict] = []
    for i, row in enumerate(base):
        o = dict(row)
        o["approved_investment"] = 123456789.5 if i == 0 else 1200000
        o["budget_amount"] = None if i == 1 else 98765.43
        if i == 2:
            del o["approval_doc_no"]
        keys = list(o)
        random.Random(i).shuffle(keys)
        objs.append({k: o[k] for k in keys})
    data = "\r\n".join(json.dumps(o, ensure_ascii=bool(i % 2)) for i, o in enumerate(objs))
    (folder / PROJ.name).write_bytes(b"\xef\xbb\xbf" + data.encode("utf-8"))  # with a BOM, as Windows tools write
    _manifest(folder, "approval", day, {PROJ.name: len(objs)})

    res = load_batch("approval", day, tmp_path, warehouse_url)
    f = next(x for x in res.files if x.name == PROJ.name)
    assert (f.delivered, f.loaded, f.quarantined) == (3, 3, 0), _quarantined(conn, "approval", day)
    got = _raw(conn, PROJ, day, ["project_name", "approved_investment", "budget_amount", "approval_doc_no"])
    assert got == [
        (1, base[0]["project_name"], "123456789.5", "98765.43", base[0]["approval_doc_no"]),
        (2, base[1]["project_name"], "1200000", None, base[1]["approval_doc_no"]),
        (3, base[2]["project_name"], "1200000", "98765.43", None),
    ]


def test_gb18030_four_byte_characters_and_crlf(tmp_path, conn, warehouse_url):
    """Characters outside GBK (four bytes in GB18030: rare surname characters of
    CJK Extension B, as in real company names) and CRLF line ends."""
    day = date(2024, 5, 8)
    folder = tmp_path / "tax" / day.isoformat()
    folder.mkdir(parents=True)
    names = ["𠮷野家餐饮（昆明）有限公司", "云南䶮石建材有限公司"]
    rows = [dict(valid_row(TAX, i, day), entity_id=[USCC, USCC2][i], entity_name=names[i]) for i in range(2)]
    assert len("𠮷".encode("gb18030")) == 4
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(TAX.column_names)
    for row in rows:
        w.writerow([row[n] for n in TAX.column_names])
    (folder / TAX.name).write_bytes(buf.getvalue().encode("gb18030"))
    _manifest(folder, "tax", day, {TAX.name: 2})

    res = load_batch("tax", day, tmp_path, warehouse_url)
    f = next(x for x in res.files if x.name == TAX.name)
    assert (f.loaded, f.quarantined) == (2, 0)
    assert [g[1] for g in _raw(conn, TAX, day, ["entity_name"])] == names


def test_empty_exports(tmp_path, conn, warehouse_url):
    """A day with nothing changed, as exporters write it: a header without a line
    end, a zero-byte CSV, a zero-byte JSONL; all listed with rows 0."""
    day = date(2024, 5, 9)
    folder = tmp_path / "trading_centre" / day.isoformat()
    folder.mkdir(parents=True)
    bids, awards = c.feed_file("trading_centre", "bids"), c.feed_file("trading_centre", "awards")
    (folder / bids.name).write_bytes(",".join(bids.column_names).encode())
    (folder / awards.name).write_bytes(b"")
    _manifest(folder, "trading_centre", day, {bids.name: 0, awards.name: 0})
    res = load_batch("trading_centre", day, tmp_path, warehouse_url)
    got = {(f.name, f.delivered, f.loaded, f.absent) for f in res.files if f.name in (bids.name, awards.name)}
    assert got == {(bids.name, 0, 0, False), (awards.name, 0, 0, False)}
    status = conn.execute("select status from raw.batches where feed = 'trading_centre' and batch_date = %s",
                          (day,)).fetchone()[0]
    assert status == "loaded"

    folder = tmp_path / "credit_china" / day.isoformat()
    folder.mkdir(parents=True)
    rec = c.feed_file("credit_china", "records")
    (folder / rec.name).write_bytes(b"")
    _manifest(folder, "credit_china", day, {rec.name: 0})
    res = load_batch("credit_china", day, tmp_path, warehouse_url)
    assert [(f.name, f.delivered, f.absent) for f in res.files] == [(rec.name, 0, False)]
