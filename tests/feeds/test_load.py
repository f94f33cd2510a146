"""Loader tests against a real PostgreSQL: bad rows, refusals, extras, encodings,
ledger balance, re-delivery and late delivery."""

from __future__ import annotations

import json
import random
from datetime import date

import pytest
from feeds_helpers import USCC, finish, valid_row, write_csv, write_jsonl

from ggzy.feeds import contract as c
from ggzy.feeds import rules as r
from ggzy.feeds.load import BatchRefused, load_batch, load_range
from ggzy.feeds.synth import make_id_no, make_uscc

D1 = date(2024, 3, 1)
ENT = c.feed_file("trading_centre", "entities")
TEN = c.feed_file("trading_centre", "tenders")
PROJ = c.feed_file("approval", "projects")
TAX = c.feed_file("tax", "taxpayers")


def quarantine(conn, feed, day):
    return conn.execute("select file, line, rule, message, raw_record from raw.quarantine "
                        "where feed = %s and batch_date = %s order by file, line", (feed, day)).fetchall()


def assert_balanced(conn):
    bad = conn.execute("select feed, batch_date from raw.batches where status = 'loaded' and "
                       "rows_delivered <> rows_loaded + rows_quarantined").fetchall()
    assert not bad
    for feed, day, file, dl, ld, qu in conn.execute(
            "select feed, batch_date, file, rows_delivered, rows_loaded, rows_quarantined from raw.batch_files"):
        ff = c.feed_file(feed, file)
        n_raw = conn.execute(f'select count(*) from raw."{ff.table}" where _batch_date = %s', (day,)).fetchone()[0]
        n_q = conn.execute("select count(*) from raw.quarantine where feed = %s and batch_date = %s and file = %s",
                           (feed, day, file)).fetchone()[0]
        assert (n_raw, n_q) == (ld, qu) and dl == ld + qu, (feed, day, file)


def test_bad_rows_quarantined_with_rule_and_line(tmp_path, conn, warehouse_url):
    folder = tmp_path / "trading_centre" / D1.isoformat()
    good = [valid_row(ENT, i) for i in range(6)]
    bad = {
        "uscc_check_digit": dict(good[0], entity_id=USCC[:-1] + ("0" if USCC[-1] != "0" else "1")),
        "id_check_digit": dict(good[0], legal_rep_id_no="530102199001011230"),
        "region_code": dict(good[0], region_code="990100"),
        "enum": dict(good[0], entity_role="supplier"),
        "date": dict(good[0], established_on="2023-02-30"),
        "money": dict(good[0], registered_capital="-5.00"),
        "timestamp": dict(good[0], updated_at="2024/03/01 10:00"),
        "required": dict(good[0], entity_name=""),
    }
    rows: list = [good[0], dict(good[1], address="昆明市\n五华区")]  # line 2, lines 3-4 (quoted newline)
    expect = {}
    line = 5
    for rule, row in bad.items():
        assert r.py_rules(ENT, row)[0] == rule
        rows.append(row)
        expect[line] = rule
        line += 1
    rows.append(list(good[2].values()) + ["surplus"])  # wrong field count
    expect[line] = r.COLUMN_COUNT
    line += 1
    rows.append(good[3])
    rows.append(good[3])  # exact duplicate
    expect[line + 1] = r.DUPLICATE_ROW
    write_csv(folder, ENT, rows)
    finish(folder, "trading_centre", D1)
    res = load_batch("trading_centre", D1, tmp_path, warehouse_url)
    f = next(x for x in res.files if x.name == "entities.csv")
    got = {ln: rule for file, ln, rule, _m, _rec in quarantine(conn, "trading_centre", D1)}
    assert got == expect
    assert f.delivered == len(rows) and f.loaded == 3 and f.quarantined == len(expect)
    msgs = [m for *_x, m, _rec in quarantine(conn, "trading_centre", D1)]
    assert all(m.startswith("trading_centre/2024-03-01 entities.csv line ") for m in msgs)
    assert any("column entity_role = 'supplier'" in m for m in msgs)
    lines = [x[0] for x in conn.execute("select _line from raw.trading_centre__entities "
                                        "where _batch_date = %s order by 1", (D1,))]
    assert lines == [2, 3, line]  # the record with the quoted newline starts at line 3
    assert_balanced(conn)


def test_jsonl_syntax_project_codes_and_extra_keys(tmp_path, conn, warehouse_url):
    day = date(2024, 3, 2)
    folder = tmp_path / "approval" / day.isoformat()
    ok = valid_row(PROJ, 1)
    lines = [
        dict(ok, project_code="2024-530100-48-01-000001"),
        dict(ok, project_code="２０２４－530100—48-01 -000002", new_field="x"),  # full width, em dash, space
        "{not json",
        dict(ok, project_code="2024-5301-48-01-000003"),  # malformed, strict column
        "[1, 2]",
        "",  # blank line: not a row
        dict(ok, project_code="2024-530100-48-01-000004", owner_id="91530100XXXXXXXXX0"),
    ]
    write_jsonl(folder, PROJ, lines)
    finish(folder, "approval", day)
    res = load_batch("approval", day, tmp_path, warehouse_url)
    f = next(x for x in res.files if x.name == "projects.jsonl")
    got = {ln: rule for _f, ln, rule, _m, _r in quarantine(conn, "approval", day)}
    assert got == {3: "json_syntax", 4: "project_code_format", 5: "json_syntax", 7: "uscc_check_digit"}
    assert f.delivered == 6 and f.loaded == 2 and f.blank_lines == 1
    assert f.extra_columns == ["new_field"]
    extra = conn.execute("select _extra from raw.approval__projects where _batch_date = %s and _line = 2",
                         (day,)).fetchone()[0]
    assert extra == {"new_field": "x"}
    assert_balanced(conn)


def test_lenient_project_code_is_loaded_and_extra_csv_column_kept(tmp_path, conn, warehouse_url):
    day = date(2024, 3, 3)
    folder = tmp_path / "trading_centre" / day.isoformat()
    row = dict(valid_row(TEN, 1), project_code="2024 530100 bad", note="备注")
    write_csv(folder, TEN, [row], header=list(TEN.column_names) + ["note"])
    finish(folder, "trading_centre", day)
    res = load_batch("trading_centre", day, tmp_path, warehouse_url)
    f = next(x for x in res.files if x.name == "tenders.csv")
    assert (f.loaded, f.quarantined, f.extra_columns) == (1, 0, ["note"])
    got = conn.execute("select project_code, _extra from raw.trading_centre__tenders where _batch_date = %s",
                       (day,)).fetchone()
    assert got == ("2024 530100 bad", {"note": "备注"})


def test_gb18030_round_trip(tmp_path, conn, warehouse_url):
    day = date(2024, 3, 4)
    folder = tmp_path / "tax" / day.isoformat()
    row = dict(valid_row(TAX, 1), entity_id=USCC, entity_name="云南滇池建设工程有限公司（昆明）")
    p = write_csv(folder, TAX, [row])
    assert "云南".encode("gb18030") in p.read_bytes()
    finish(folder, "tax", day)
    load_batch("tax", day, tmp_path, warehouse_url)
    name = conn.execute("select entity_name from raw.tax__taxpayers where _batch_date = %s", (day,)).fetchone()[0]
    assert name == "云南滇池建设工程有限公司（昆明）"


def _refusal_case(tmp_path, kind):
    day = date(2024, 4, 1)
    folder = tmp_path / "tax" / day.isoformat()
    rows = [dict(valid_row(TAX, i), entity_id=make_uscc(random.Random(i))) for i in range(3)]
    header = None
    if kind == "missing_required":
        header = [n for n in TAX.column_names if n != "taxpayer_status"]
    write_csv(folder, TAX, rows, header=header)
    doc = finish(folder, "tax", day)
    m = folder / "manifest.json"
    if kind == "no_manifest":
        m.unlink()
    elif kind == "sha":
        with open(folder / TAX.name, "ab") as fh:
            fh.write(b"")
        doc["files"][0]["sha256"] = "0" * 64
        m.write_text(json.dumps(doc))
    elif kind == "rows":
        doc["files"][0]["rows"] = 4
        m.write_text(json.dumps(doc))
    elif kind == "absent":
        (folder / TAX.name).unlink()
    return day


@pytest.mark.parametrize("kind,needle", [
    ("no_manifest", "no manifest.json"),
    ("sha", "file taxpayers.csv: sha256 mismatch"),
    ("rows", "file taxpayers.csv: row count mismatch"),
    ("missing_required", "file taxpayers.csv: line 1: contract column(s) taxpayer_status missing"),
    ("absent", "file taxpayers.csv: listed in the manifest but absent"),
])
def test_whole_batch_refusals_leave_raw_unchanged(tmp_path, conn, warehouse_url, kind, needle):
    day = _refusal_case(tmp_path / "first", "ok")
    load_batch("tax", day, tmp_path / "first", warehouse_url)  # a good delivery is in raw
    before = conn.execute("select count(*) from raw.tax__taxpayers where _batch_date = %s", (day,)).fetchone()[0]
    _refusal_case(tmp_path, kind)
    with pytest.raises(BatchRefused) as e:
        load_batch("tax", day, tmp_path, warehouse_url)
    assert str(e.value).startswith("batch tax/2024-04-01")
    assert needle in str(e.value)
    after = conn.execute("select count(*) from raw.tax__taxpayers where _batch_date = %s", (day,)).fetchone()[0]
    assert before == after == 3
    status, last = conn.execute("select status, last_refusal from raw.batches where feed = 'tax' and batch_date = %s",
                                (day,)).fetchone()
    assert status == "loaded" and needle in last
    assert conn.execute("select count(*) from raw.batch_events where feed = 'tax' and batch_date = %s "
                        "and event = 'refused'", (day,)).fetchone()[0] >= 1


def test_redelivery_replaces_and_late_out_of_order_gives_same_content(tmp_path, conn, warehouse_url):
    ents = [dict(valid_row(ENT, i), entity_id=make_uscc(random.Random(100 + i)), legal_rep_id_no=make_id_no(
        random.Random(i))) for i in range(3)]
    days = [date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 3)]

    def batch(root, k, names):
        folder = root / "trading_centre" / days[k].isoformat()
        rows = [dict(e, entity_name=names, updated_at=f"{days[k]}T10:00:00+08:00") for e in ents[: k + 1]]
        write_csv(folder, ENT, rows)
        finish(folder, "trading_centre", days[k])

    newest = ("select distinct on (entity_id) entity_id, entity_name from raw.trading_centre__entities "
              "where _batch_date between '2024-05-01' and '2024-05-03' "
              "order by entity_id, updated_at desc, _batch_date desc, _line desc")
    for k in range(3):
        batch(tmp_path / "a", k, f"v{k}")
    load_range(tmp_path / "a", days[0], days[2], feeds=["trading_centre"], url=warehouse_url)
    in_order = conn.execute(newest).fetchall()
    # start over (rows and ledger of the three days), then deliver late and out of order
    conn.execute("delete from raw.trading_centre__entities where _batch_date between %s and %s", (days[0], days[2]))
    conn.execute("delete from raw.batches where feed = 'trading_centre' and batch_date between %s and %s",
                 (days[0], days[2]))
    for k in (2, 0, 1):
        load_batch("trading_centre", days[k], tmp_path / "a", warehouse_url)
    assert conn.execute(newest).fetchall() == in_order
    # re-deliver day 2 corrected: its partition is replaced, not appended
    batch(tmp_path / "b", 1, "corrected")
    res = load_batch("trading_centre", days[1], tmp_path / "b", warehouse_url)
    assert res.replaced
    names = conn.execute("select entity_name from raw.trading_centre__entities where _batch_date = %s",
                         (days[1],)).fetchall()
    assert names == [("corrected",), ("corrected",)]
    assert_balanced(conn)


def test_sql_checks_match_python_reference(conn):
    rng = random.Random(3)
    usccs = [make_uscc(rng) for _ in range(30)]
    usccs += [u[:-1] + rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for u in usccs] + ["", "91530100ABC", "I" * 18]
    ids = [make_id_no(rng) for _ in range(30)]
    ids += [i[:-1] + rng.choice("0123456789X") for i in ids] + ["530102199002301234", "53010219900101123x"]
    for v in usccs:
        assert conn.execute("select raw.uscc_ok(%s)", (v,)).fetchone()[0] == r.py_uscc_ok(v), v
    for v in ids:
        assert conn.execute("select raw.id_no_ok(%s)", (v,)).fetchone()[0] == r.py_id_no_ok(v), v
    for v in ["530100", "990100", "53010", "5301000", "110105"]:
        assert conn.execute("select raw.region_ok(%s)", (v,)).fetchone()[0] == r.py_region_ok(v), v
    for v in ["2024-530100-48-01-000001", "２０２４－５３０１００－48-01-000001", " 2024–530100-48-01-000001",
              "2024-53010-48-01-000001", "2024-530100-48-01-00001"]:
        assert conn.execute("select raw.project_code_ok(%s)", (v,)).fetchone()[0] == r.py_project_code_ok(v), v
    for v in ["2024-03-01T10:00:00+08:00", "2024-02-30T10:00:00+08:00", "2024-03-01 10:00", "2024-03-01T10:00:00Z",
              "2024/03/01 10:00:00", "2024-03-01T10:00:00 CST", "2024-03-01T10:00:00.123+08:00"]:
        assert conn.execute("select raw.timestamp_ok_fast(%s)", (v,)).fetchone()[0] == r.py_timestamp_ok(v), v
    for v in ["0", "12.5", "12.50", "12.505", "-1", "1e5", "012", "1000000000000.00", "1000000000000.01"]:
        assert conn.execute("select raw.money_ok_fast(%s, 1e12)", (v,)).fetchone()[0] == r.py_money_ok(v), v
        assert conn.execute("select raw.money_ok(%s, 1e12)", (v,)).fetchone()[0] == r.py_money_ok(v), v


def test_fast_python_twins_equal_stdnum_references():
    """The loader checks USCC and ID numbers on the client with fast twins of the references."""
    rng = random.Random(11)
    usccs = [make_uscc(rng) for _ in range(300)]
    usccs += [u[:-1] + rng.choice(r._USCC_ALPHABET) for u in usccs] + ["91530100ABC", "I" * 18, "9153010" + "0" * 11]
    ids = [make_id_no(rng) for _ in range(300)]
    ids += [i[:-1] + rng.choice("0123456789Xx") for i in ids] + ["530102199002301234", "53010218990101123x"]
    for v in usccs + ids:
        assert r.fast_uscc_ok(v) == r.py_uscc_ok(v), v
        assert r.fast_id_no_ok(v) == r.py_id_no_ok(v), v


def _tax_batch(root, day, n, bad_lines=()):
    folder = root / "tax" / day.isoformat()
    rows = []
    for i in range(n):
        row = dict(valid_row(TAX, i), entity_id=make_uscc(random.Random(1000 + i)))
        if i + 2 in bad_lines:
            row["taxpayer_status"] = "sleeping"  # enum
        rows.append(row)
    write_csv(folder, TAX, rows)
    finish(folder, "tax", day)


def test_rows_in_reused_free_space_are_validated(tmp_path, conn, warehouse_url):
    """A day's rows may land in free space of earlier pages of the month partition
    (after a re-delivery deleted rows and VACUUM freed them): validation still sees
    every row of the file."""
    d1, d2 = date(2024, 6, 3), date(2024, 6, 4)
    _tax_batch(tmp_path / "a", d1, 400)
    load_batch("tax", d1, tmp_path / "a", warehouse_url)
    _tax_batch(tmp_path / "b", d1, 5)  # re-delivery: 400 rows deleted
    load_batch("tax", d1, tmp_path / "b", warehouse_url)
    conn.execute("vacuum raw.tax__taxpayers_202406")
    bad = {7, 150, 290}
    _tax_batch(tmp_path / "c", d2, 300, bad)
    res = load_batch("tax", d2, tmp_path / "c", warehouse_url)
    assert (res.loaded, res.quarantined) == (297, 3)
    assert {ln for _f, ln, rule, _m, _r in quarantine(conn, "tax", d2)} == bad
    early = conn.execute("select count(*) from raw.tax__taxpayers_202406 where _batch_date = %s "
                         "and ctid < '(4,0)'::tid", (d2,)).fetchone()[0]
    assert early > 0  # the case under test really happened
    assert_balanced(conn)


def test_day_partitions_of_the_older_layout_are_merged(tmp_path, conn, warehouse_url):
    d1, d2 = date(2023, 1, 5), date(2023, 1, 6)
    cols = ", ".join(f'"{n}"' for n in TAX.column_names)
    conn.execute("create table raw.tax__taxpayers_20230105 partition of raw.tax__taxpayers for values in ('2023-01-05')")
    conn.execute(f"insert into raw.tax__taxpayers ({cols}, _batch_date, _file, _line, _loaded_at) "
                 f"select {', '.join(['%s'] * len(TAX.column_names))}, %s, 'taxpayers.csv', 2, now()",
                 [*valid_row(TAX, 1).values(), d1])
    _tax_batch(tmp_path, d2, 3)
    load_batch("tax", d2, tmp_path, warehouse_url)  # meets the day partition of its month: merges it
    parts = [r[0] for r in conn.execute(
        "select c.relname::text from pg_inherits i join pg_class c on c.oid = i.inhrelid "
        "where i.inhparent = 'raw.tax__taxpayers'::regclass and c.relname like 'tax__taxpayers_2023%'")]
    assert parts == ["tax__taxpayers_202301"]
    got = conn.execute("select _batch_date, count(*) from raw.tax__taxpayers where _batch_date in (%s, %s) "
                       "group by 1 order by 1", (d1, d2)).fetchall()
    assert got == [(d1, 1), (d2, 3)]


def test_bootstrap_sets_the_loader_defaults_of_month_partitions(conn):
    from ggzy.feeds.raw import ensure_raw_tables

    conn.execute("create table raw.tax__taxpayers_202202 partition of raw.tax__taxpayers "
                 "(_file default 'x') for values in ('2022-02-01', '2022-02-02')")
    ensure_raw_tables(conn)
    default = conn.execute("select pg_get_expr(d.adbin, d.adrelid) from pg_attrdef d join pg_attribute a "
                           "on a.attrelid = d.adrelid and a.attnum = d.adnum where d.adrelid = "
                           "'raw.tax__taxpayers_202202'::regclass and a.attname = '_file'").fetchone()[0]
    assert default == "'taxpayers.csv'::text"


def test_a_record_longer_than_a_page_is_stored(tmp_path, conn, warehouse_url):
    day = date(2024, 7, 1)
    folder = tmp_path / "tax" / day.isoformat()
    name = "云南" * 6000  # ~36 kB in UTF-8: needs TOAST
    write_csv(folder, TAX, [dict(valid_row(TAX, 1), entity_id=USCC, entity_name=name)])
    finish(folder, "tax", day)
    res = load_batch("tax", day, tmp_path, warehouse_url)
    assert (res.loaded, res.quarantined) == (1, 0)
    got = conn.execute("select entity_name from raw.tax__taxpayers where _batch_date = %s", (day,)).fetchone()[0]
    assert got == name
