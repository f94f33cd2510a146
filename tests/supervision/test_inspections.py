"""Special inspections (专项检查): campaigns recorded through `ggzy inspections`, their
findings shown, problems becoming clues verified jointly by the campaign's departments."""

from __future__ import annotations


def test_a_campaign_its_findings_and_the_clue_from_a_problem(sv, tmp_path):
    ggzy, q = sv["ggzy"], sv["q"]
    (tender, tender2), = [tuple(r[0] for r in q("select tender_id from staging.stg_trading_centre__tenders"
                                                " order by tender_id limit 2"))]
    ggzy("inspections", "create", "ZX-2026-09", "--title", "房建市政工程围标串标专项检查",
         "--scope", "2026年9-10月开标的房建市政工程标段", "--lead", "530000-HOUSING", "--department", "530000-DRC",
         "--department", "530000-DISCIPLINE", "--from", "2026-09-01", "--to", "2026-10-31", "--by", "协同监管办王主任")
    ggzy("inspections", "target", "ZX-2026-09", "tender", tender, "--by", "协同监管办王主任")
    outside = ggzy("inspections", "finding", "ZX-2026-09", "tender", tender, "--on", "2026-11-02", "--text", "x",
                   "--by", "住建厅", check=False)
    assert outside.returncode == 1 and "outside" in outside.stderr
    not_target = ggzy("inspections", "finding", "ZX-2026-09", "tender", tender2, "--on", "2026-10-02", "--text", "x",
                      "--by", "住建厅", check=False)
    assert not_target.returncode == 1 and "not a target" in not_target.stderr
    ggzy("inspections", "finding", "ZX-2026-09", "tender", tender, "--on", "2026-10-15",
         "--text", "投标保证金从同一账户转出", "--legal-basis", "《招标投标法实施条例》第40条第(六)项", "--by", "住建厅检查组")
    ggzy("clues", "register")
    (clue, lead, n, joint), = q("""select c.clue_id, f.lead_department_code, f.n_departments, f.joint_department_names
                                   from ops.clues c join marts.fct_clues f using (clue_id)
                                   where c.source_type = 'special_inspection' and c.tender_id = %s""", (tender,))
    assert (lead, n) == ("530000-HOUSING", 3) and "纪委" in joint
    listed = ggzy("inspections", "list").stdout
    assert "ZX-2026-09" in listed and "targets=1 findings=1 problems=1" in listed


def test_import_is_idempotent_and_errors_name_file_and_line(sv, tmp_path):
    ggzy, q = sv["ggzy"], sv["q"]
    tenders = [r[0] for r in q("select tender_id from staging.stg_trading_centre__tenders order by tender_id desc limit 2")]
    head = ("inspection_id,title,scope,lead_department,departments,period_start,period_end,target_type,target_id,"
            "found_on,finding,legal_basis,is_problem\n")
    camp = "ZX-IMP,政府采购专项检查,政府采购项目,530000-FIN,530000-AUDIT,2026-09-01,2026-10-31"
    good = tmp_path / "inspections.csv"
    good.write_text(head + f"{camp},tender,{tenders[0]},2026-10-09,评审专家抽取不规范,,true\n"
                    f"{camp},tender,{tenders[1]},,,,\n", encoding="utf-8")
    assert "campaigns=1 targets=2 findings=1" in ggzy("inspections", "import", str(good), "--by", "王主任").stdout
    assert "campaigns=0 targets=0 findings=0" in ggzy("inspections", "import", str(good), "--by", "王主任").stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(head + f"{camp},tender,{tenders[0]},2026-10-09,评审专家抽取不规范,,true\n"
                   f"{camp},tender,{tenders[1]},2027-01-01,逾期发现,,true\n", encoding="utf-8")
    proc = ggzy("inspections", "import", str(bad), "--by", "王主任", check=False)
    assert proc.returncode == 1 and "bad.csv, line 3" in proc.stderr and "outside" in proc.stderr
    short = tmp_path / "short.csv"
    short.write_text("inspection_id,title\nZX-X,x\n", encoding="utf-8")
    proc = ggzy("inspections", "import", str(short), "--by", "王主任", check=False)
    assert proc.returncode == 1 and "short.csv, line 1: missing column(s) scope" in proc.stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes(head.encode() + "ZX-L,检查".encode("gb18030") + b"\n")
    proc = ggzy("inspections", "import", str(latin), "--by", "王主任", check=False)
    assert proc.returncode == 1 and "not a UTF-8 CSV file" in proc.stderr
