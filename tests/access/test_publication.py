"""Disclosure tables and their exports: no personal data, Chinese headers, gated."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re

import psycopg
import pytest

from .conftest import BANNED, BATCH, PEOPLE, REPAIRED

CJK = re.compile(r"[\u4e00-\u9fff]")


def _files(folder):
    """Every published file of a folder (partitioned tables have a subfolder), by relative name."""
    return {str(p.relative_to(folder)): p for p in sorted(folder.rglob("*")) if p.is_file()}


def _gate(url: str, batch_date: dt.date, passed: bool) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("insert into ops.quality_gate (batch_date, passed, checked_at, details, run_id) "
                     "values (%s, %s, clock_timestamp(), %s, 'test')",
                     (batch_date, passed, json.dumps({"test": "passed" if passed else "bad rows above threshold"})))


def test_disclosure_tables_hold_no_personal_data(access_warehouse):
    from ggzy.disclosure import disclosure_relations, scan_for_pii

    url, _ = access_warehouse
    with psycopg.connect(url) as conn:
        rels = disclosure_relations(conn)
        assert {"disclosure.tender_results", "disclosure.blacklist_exposure", "disclosure.bad_conduct_notices",
                "disclosure.complaint_handling_stats", "disclosure.responsibility_list"} <= set(rels)
        assert scan_for_pii(conn) == []
        everything = " ".join(str(v) for rel in rels for row in conn.execute(f"select * from {rel}") for v in row)
    for name, number in PEOPLE.values():
        assert name not in everything
        assert number is None or number not in everything
    assert "13812345678" not in everything


def test_disclosure_content(access_warehouse):
    url, _ = access_warehouse
    with psycopg.connect(url) as conn:
        winner = conn.execute("select winner_name, award_price from disclosure.tender_results").fetchone()
        assert winner[0] == "云南滇峰建设工程有限公司"
        exposed = {r[0] for r in conn.execute("select entity_id from disclosure.blacklist_exposure")}
        assert exposed == {BANNED}  # REPAIRED was revoked (信用修复) before the batch date
        notices = dict(conn.execute("select case_id, subject_name from disclosure.bad_conduct_notices").fetchall())
        assert notices == {"C1": "欧***", "C2": "云南恒通路桥有限公司"}  # C3's subject repaired its credit
        assert REPAIRED not in {r[0] for r in conn.execute("select subject_id from disclosure.bad_conduct_notices")}
        stats = conn.execute("select received_count, forwarded_on_time_count, assigned_count, answered_on_time_count "
                             "from disclosure.complaint_handling_stats where department_code = '530100-GGZY'").fetchone()
        assert stats[:2] == (2, 1)  # K2 was forwarded 9 working days late


def test_scan_detects_planted_personal_data(access_warehouse):
    """The scanner is not vacuous: it finds each kind of personal data it must refuse."""
    from ggzy.disclosure import load_person_names, scan_for_pii

    url, _ = access_warehouse
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema if not exists scratch")
        conn.execute("drop table if exists scratch.leak")
        conn.execute("create table scratch.leak (note text, bond_account text)")
        conn.execute("insert into scratch.leak values (%s, null), (%s, null), (%s, null), (%s, null), (null, %s), "
                     "(%s, null), (%s, null)",
                     (f"身份证 {PEOPLE['legal_rep'][1]}", "电话13812345678", "张三丰", "对周建华处以警告",
                      "6222 0202 0011 2233", "530102800101123", "云南滇峰建设工程有限公司"))
        try:
            found = scan_for_pii(conn, relations=["scratch.leak"], names=load_person_names(conn))
        finally:
            conn.execute("drop schema scratch cascade")
    kinds = sorted({f.kind for f in found})
    assert kinds == ["account", "id_number", "old_id_number", "person_name", "phone"]
    assert len([f for f in found if f.kind == "person_name"]) == 2  # the company name is not a person
    assert all(PEOPLE["legal_rep"][1] not in str(f) for f in found)  # findings never repeat the data


@pytest.fixture(scope="module")
def published(access_warehouse):
    from ggzy import disclosure

    url, root = access_warehouse
    _gate(url, BATCH, True)
    pub = disclosure.publish(BATCH, url=url, export_root=root)
    assert pub.published, pub.reason
    return pub, root


def test_exports_open_with_chinese_headers(published):
    from openpyxl import load_workbook

    pub, root = published
    folder = root / BATCH.isoformat()
    assert (root / "latest").resolve() == folder.resolve()
    names = set(_files(folder))
    # tables that grow with time: one file per month of their date; a seed list: one file
    for stem in ("tender_results/2026-02", "blacklist_exposure/2025-06", "bad_conduct_notices/2025-06",
                 "bad_conduct_notices/2026-02", "complaint_handling_stats/2026-02", "responsibility_list"):
        assert f"{stem}.csv" in names and f"{stem}.xlsx" in names, (stem, names)
    wb = load_workbook(folder / "tender_results" / "2026-02.xlsx")
    ws = wb.active
    header = [c.value for c in ws[1]]
    assert header[:2] == ["标段编号", "标段名称"] and "中标人" in header and "中标价（元）" in header
    assert all(CJK.search(h) for h in header)
    assert ws.max_row == 2 and "云南滇峰建设工程有限公司" in [c.value for c in ws[2]]
    assert "数据截止日期" not in header  # the as-of date is the manifest's, not a column of every file
    raw = (folder / "tender_results" / "2026-02.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    with open(folder / "tender_results" / "2026-02.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == header and len(rows) == 2
    for name, path in _files(folder).items():
        if name.endswith(".xlsx"):
            hdr = [c.value for c in load_workbook(path).active[1]]
            assert all(CJK.search(h) for h in hdr), (name, hdr)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["as_of_date"] == BATCH.isoformat()


def test_exported_files_hold_no_personal_data_and_match_the_log(access_warehouse, published):
    from ggzy.disclosure import scan_for_pii, sha256

    url, root = access_warehouse
    pub, _ = published
    folder = root / BATCH.isoformat()
    files = {n: p for n, p in _files(folder).items() if p.suffix in (".csv", ".xlsx")}
    with psycopg.connect(url) as conn:
        assert scan_for_pii(conn, relations=[], files=files.values()) == []
        logged = conn.execute("select files from ops.current_publications where batch_date = %s", (BATCH,)).fetchone()[0]
    assert {f["name"]: f["sha256"] for f in logged} == {n: sha256(p) for n, p in files.items()}
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert {f["name"]: f["sha256"] for f in manifest["files"]} == {n: sha256(p) for n, p in files.items()}


def test_failed_gate_keeps_previous_publication(access_warehouse, published):
    from ggzy import disclosure

    url, root = access_warehouse
    folder = root / BATCH.isoformat()
    before = {n: disclosure.sha256(p) for n, p in _files(folder).items()}
    _gate(url, BATCH, False)  # e.g. a corrected re-delivery failed its checks
    pub = disclosure.publish(BATCH, url=url, export_root=root, force=True)
    assert not pub.published and "quality gate failed" in pub.reason
    assert {n: disclosure.sha256(p) for n, p in _files(folder).items()} == before
    assert (root / "latest").resolve() == folder.resolve()
    with psycopg.connect(url) as conn:
        last = conn.execute("select published, reason from ops.publications where batch_date = %s "
                            "order by attempted_at desc limit 1", (BATCH,)).fetchone()
        assert last[0] is False and "bad rows above threshold" in last[1]
        assert conn.execute("select count(*) from ops.current_publications where batch_date = %s",
                            (BATCH,)).fetchone()[0] == 1
    _gate(url, BATCH, True)


def test_no_gate_no_publication(access_warehouse):
    from ggzy import disclosure

    url, root = access_warehouse
    day = dt.date(2026, 2, 28)
    pub = disclosure.publish(day, url=url, export_root=root)
    assert not pub.published and "no quality gate" in pub.reason
    assert not (root / day.isoformat()).exists()


def test_personal_data_in_a_disclosure_table_refuses_publication(access_warehouse, published):
    from ggzy import disclosure

    url, root = access_warehouse
    folder = root / BATCH.isoformat()
    before = {n: disclosure.sha256(p) for n, p in _files(folder).items()}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table disclosure.zz_leak as select 'contact 13812345678'::text as note, "
                     "date '2026-02-27' as as_of_date")
    try:
        pub = disclosure.publish(BATCH, url=url, export_root=root, force=True)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("drop table disclosure.zz_leak")
    assert not pub.published and "personal data" in pub.reason and "phone" in pub.reason
    assert "13812345678" not in pub.reason
    assert {n: disclosure.sha256(p) for n, p in _files(folder).items()} == before


def test_republish_with_force_replaces_atomically(access_warehouse, published):
    from ggzy import disclosure

    url, root = access_warehouse
    again = disclosure.publish(BATCH, url=url, export_root=root)
    assert again.published and not again.recorded and "already published" in again.reason
    forced = disclosure.publish(BATCH, url=url, export_root=root, force=True)
    assert forced.published and forced.recorded
    assert not [p for p in root.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_file_scan_reads_every_cell_of_an_xlsx(tmp_path):
    """The export scan reads .xlsx files from their XML (shared and inline strings, values):
    planted personal data is found at its row and under its header, in either string form."""
    from openpyxl import Workbook

    from ggzy.disclosure import NameIndex, scan_file, xlsx_rows

    names = NameIndex(persons={"周建华"}, companies={"云南滇峰建设工程有限公司"})
    shared = tmp_path / "shared.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(["说明", "保证金账户", "金额"])
    ws.append(["云南滇峰建设工程有限公司", None, 1200.5])
    ws.append(["联系 13812345678 & 其他", "6222 0202 0011 2233", 3])
    ws.append(["对周建华处以警告", None, None])
    wb.save(shared)
    streamed = tmp_path / "streamed.xlsx"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("s")
    for row in (["说明", "保证金账户", "金额"], ["<b>周建华</b>", None, 7]):
        ws.append(row)
    wb.save(streamed)

    assert list(xlsx_rows(shared))[2] == ["联系 13812345678 & 其他", "6222 0202 0011 2233", 3]
    found = {(f.row, f.column, f.kind) for f in scan_file(shared, names)}
    assert found == {(3, "说明", "phone"), (3, "保证金账户", "account"), (4, "说明", "person_name")}
    assert {(f.row, f.column, f.kind) for f in scan_file(streamed, names)} == {(2, "说明", "person_name")}
