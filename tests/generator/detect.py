"""Reference detectors for the deterministic risk rules, straight from the landing files.

Used by the tests to prove that the generator's ground truth is exactly what a correct
implementation of each rule finds (injections fire, clean data does not), and runnable
by hand on a big landing: `python tests/generator/detect.py /tmp/gen-s1`.
Thresholds are the documented ones in ggzy.generator.anomalies.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from ggzy.feeds import contract as fc
from ggzy.feeds.rules import normalize_project_code
from ggzy.generator import anomalies as an
from ggzy.generator.calendar import WorkCalendar, day_number

DETERMINISTIC = (
    "cl_no_approval", "cl_broken_link", "cl_award_above_control", "cl_contract_deviation", "cl_start_before_award",
    "cl_settlement_overrun", "cl_stage_overdue", "tl_complaint_forward_late", "tl_complaint_answer_late",
    "tl_guest_notice_late", "tl_publicity_late", "a40_same_file_maker", "a40_same_ca_cert", "a40_same_ip",
    "a40_same_mac", "a40_same_bond_account", "a40_same_project_manager", "a40_identical_price",
    "a40_price_progression", "a34_shared_legal_rep", "a34_controlling_shareholder", "a34_shared_phone",
    "pf_single_bid", "pf_all_but_winner_rejected", "pf_lowest_rejected", "pf_short_bid_period",
    "pf_award_near_control", "pf_late_winning_bid", "pf_split_lots", "cr_banned_bidder", "cr_tax_abnormal_winner",
    "cr_shell_winner", "ex_employed_by_bidder",
)


def load(landing: Path) -> dict[str, pd.DataFrame]:
    """Newest version per key of every contract file, bad rows left out (as the warehouse would)."""
    bad = set()
    with (landing / "_ground_truth" / "bad_rows.csv").open(encoding="utf-8") as f:
        for b in csv.DictReader(f):
            bad.add((b["feed"], b["batch_date"], b["file"], int(b["line"])))
    out = {}
    for ff in fc.FILES:
        rows = []
        for folder in sorted((landing / ff.feed).iterdir()):
            raw = (folder / ff.name).read_bytes().decode("gb18030" if ff.fmt == fc.CSV_GB18030 else "utf-8")
            lines = raw.splitlines()
            if ff.fmt == fc.JSONL:
                for i, line in enumerate(lines, start=1):
                    if (ff.feed, folder.name, ff.name, i) not in bad:
                        obj = json.loads(line)
                        rows.append({c: (None if obj.get(c) is None else str(obj[c])) for c in ff.column_names})
            else:
                for i, line in enumerate(lines[1:], start=2):
                    if (ff.feed, folder.name, ff.name, i) not in bad:
                        vals = next(csv.reader(io.StringIO(line)))
                        rows.append({c: (v or None) for c, v in zip(ff.column_names, vals, strict=True)})
        df = pd.DataFrame(rows, columns=list(ff.column_names), dtype=object)
        out[ff.stem + "_versions"] = df  # every version: statuses are judged as of the act
        if ff.version_column and len(df):
            df = df.sort_values(ff.version_column, kind="stable").drop_duplicates(list(ff.key), keep="last")
        out[ff.stem] = df.reset_index(drop=True)
    return out


def _ts(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, format="ISO8601", utc=True).dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)


def _day(s: pd.Series) -> np.ndarray:
    return ((_ts(s) - pd.Timestamp("1970-01-01")).dt.days).to_numpy()


def detect(landing: Path, as_of: str) -> dict[str, set[str]]:
    d = load(landing)
    found: dict[str, set[str]] = defaultdict(set)
    t, b, aw, ct = d["tenders"], d["bids"], d["awards"], d["contracts"]
    ent, links, ev, ex = d["entities"], d["entity_links"], d["evaluations"], d["experts"]
    as_of_day = day_number(pd.Timestamp(as_of).date())
    cal = WorkCalendar(as_of_day - 900, as_of_day + 900)
    money = lambda s: s.astype(float)  # noqa: E731
    t = t.assign(control=pd.to_numeric(t.control_price), ann=_ts(t.announced_at), dl=_ts(t.bid_deadline))
    b = b.assign(price=money(b.bid_price), sub=_ts(b.submitted_at), valid=b.is_valid == "true")
    # ---- bids within a lot
    for col, rule in (("file_maker_code", "a40_same_file_maker"), ("ca_cert_serial", "a40_same_ca_cert"),
                      ("client_ip", "a40_same_ip"), ("client_mac", "a40_same_mac"),
                      ("bond_account", "a40_same_bond_account"), ("project_manager_id_no", "a40_same_project_manager"),
                      ("bid_price", "a40_identical_price")):
        g = b.dropna(subset=[col]).groupby(["tender_id", col]).bidder_id.nunique()
        found[rule] |= set(g[g > 1].index.get_level_values(0))
    for tid, g in b[b.valid].groupby("tender_id"):
        p = np.sort(g.price.to_numpy())
        if len(p) >= 4 and np.all(np.abs(np.diff(np.diff(p))) < 0.005):
            found["a40_price_progression"].add(tid)
    e = ent.set_index("entity_id")
    bb = b.join(e[["contact_phone", "legal_rep_id_no"]], on="bidder_id")
    for col, rule in (("contact_phone", "a34_shared_phone"), ("legal_rep_id_no", "a34_shared_legal_rep")):
        g = bb.dropna(subset=[col]).groupby(["tender_id", col]).bidder_id.nunique()
        found[rule] |= set(g[g > 1].index.get_level_values(0))
    sh = links[(links.link_type == "shareholder") & (pd.to_numeric(links.share_pct) > 50)]
    owners = defaultdict(set)
    for r in sh.itertuples():
        owners[r.entity_id].add(r.linked_id)
    for tid, g in b.groupby("tender_id"):
        s = set(g.bidder_id)
        if any(owners.get(x, set()) & (s - {x}) for x in s):
            found["a34_controlling_shareholder"].add(tid)
    # ---- award / contract / procedure
    a = aw.merge(t, on="tender_id").assign(price=lambda x: money(x.award_price), awd=lambda x: _day(x.awarded_at))
    n_bids = b.groupby("tender_id").bid_id.nunique()
    n_valid = b[b.valid].groupby("tender_id").bid_id.nunique()
    a = a.assign(n=a.tender_id.map(n_bids).fillna(0), nv=a.tender_id.map(n_valid).fillna(0))
    found["cl_award_above_control"] |= set(a[a.price > a.control].tender_id)
    found["pf_award_near_control"] |= set(a[(a.price >= a.control * (1 - an.NEAR_CONTROL)) & (a.price <= a.control)
                                            & (a.n >= 3)].tender_id)
    found["pf_single_bid"] |= set(a[(a.nv == 1) & (a.procurement_method != "single_source")].tender_id)
    found["pf_all_but_winner_rejected"] |= set(a[(a.nv == 1) & (a.n >= 3)].tender_id)
    win = a.merge(b, left_on=["tender_id", "winner_id"], right_on=["tender_id", "bidder_id"])
    found["pf_late_winning_bid"] |= set(win[win["sub"] > win.dl].tender_id)
    for tid, g in b.merge(t[t.evaluation_method == "lowest_price"][["tender_id"]]).groupby("tender_id"):
        if g.loc[g.price.idxmin(), "is_valid"] == "false":  # unknown (not yet evaluated) is not a rejection
            found["pf_lowest_rejected"].add(tid)
    # as the risk model counts: calendar days = deadline date - announcement date; working days
    # (74号令 methods) = working days after the announcement day up to the deadline day
    ann_day, dl_day = _day(t.announced_at), _day(t.bid_deadline)
    wd = t.procurement_method.isin(an.MIN_BID_WORKDAY_METHODS).to_numpy()
    period = np.where(wd, cal.workdays_between(ann_day, dl_day), dl_day - ann_day)
    short = period < t.procurement_method.map(an.MIN_BID_DAYS).to_numpy()
    found["pf_short_bid_period"] |= set(t[short].tender_id)
    # 中标候选人公示 (实施条例第54条), tendered lots: within 3 days of the evaluation report, >= 3 days
    report = ev.dropna(subset=["evaluated_at"]).groupby("tender_id").evaluated_at.max()
    ta = a[a.procurement_method.isin(an.TENDER_METHODS) & a.tender_id.isin(report.index)]
    rep = _day(ta.tender_id.map(report))
    pub = _day(ta.publicity_start.astype(str) + "T00:00:00+08:00")
    end = _day(ta.publicity_end.astype(str) + "T00:00:00+08:00")
    late = (pub - rep > an.PUBLICITY_REPORT_DAYS) | (end - pub < an.PUBLICITY_MIN_DAYS)
    found["tl_publicity_late"] |= set(ta[np.asarray(late)].tender_id)
    c = a.merge(ct[["tender_id", "contract_amount", "signed_at"]], on="tender_id", how="left")
    dev = (money(c.contract_amount.fillna("nan")) / c.price - 1).abs()
    found["cl_contract_deviation"] |= set(c[dev > an.CONTRACT_DEVIATION].tender_id)
    signed = pd.Series(np.where(c.signed_at.isna(), as_of_day, _day(c.signed_at.fillna("1970-01-01T00:00:00+08:00"))))
    found["cl_stage_overdue"] |= set(c[(signed - c.awd > an.CONTRACT_DAYS).to_numpy()].tender_id)
    # ---- approval loop (construction only)
    pr = d["projects"].assign(code=lambda x: x.project_code.map(normalize_project_code), appr=lambda x: _ts(x.approved_at))
    con = t[t.category == "construction"].assign(code=lambda x: x.project_code.map(
        lambda v: None if v is None else normalize_project_code(v)))
    found["cl_no_approval"] |= set(con[con.code.isna()].tender_id)
    linked = con.merge(pr[["code", "appr"]], on="code", how="left")
    found["cl_broken_link"] |= set(linked[linked.code.notna() & linked.appr.isna()].tender_id)
    found["cl_no_approval"] |= set(linked[linked.appr > linked.ann].tender_id)
    ms = d["milestones"]
    st = ms[ms.milestone == "construction_start"].merge(a[["tender_id", "awd"]], on="tender_id")
    found["cl_start_before_award"] |= set(st[_day(st.occurred_on + "T00:00:00+08:00") < st.awd].tender_id)
    fs = ms[ms.milestone == "final_settlement"].merge(ct, on="tender_id")
    found["cl_settlement_overrun"] |= set(
        fs[money(fs.amount) > money(fs.contract_amount) * (1 + an.SETTLEMENT_OVERRUN)].tender_id)
    # split purchases: one tenderer's untendered construction lots, each under the threshold, of
    # one project or industry, within the window, together at or above it
    small = t[(t.category == "construction") & (t.control < an.CONSTRUCTION_THRESHOLD_YUAN)
              & ~t.procurement_method.isin(an.TENDER_METHODS)]
    for _, g in small.groupby(["tenderer_id", "industry"]):
        for r in g.itertuples():
            w = g[(g.ann - r.ann).abs() <= pd.Timedelta(days=an.SPLIT_WINDOW_DAYS)]
            if len(w) >= 2 and w.control.sum() >= an.CONSTRUCTION_THRESHOLD_YUAN:
                found["pf_split_lots"].add(r.tender_id)
    # ---- credit, tax, shells
    cr = d["records"]
    bans = cr[(cr.list_type == "serious_dishonest") & cr.measures.fillna("").str.contains("bid_ban")]
    for r in bans.itertuples():
        mine = b[b.bidder_id == r.entity_id]
        start = pd.Timestamp(r.effective_from)
        end = min(pd.Timestamp(x) for x in (r.effective_until, r.revoked_on, "2999-01-01") if x)
        hit = mine[(mine["sub"] >= start) & (mine["sub"] < end)]
        found["cr_banned_bidder"] |= set(hit.tender_id)
    # the taxpayer version in force when the lot was awarded (newest with updated_at <= awarded_at)
    tv = d["taxpayers_versions"].assign(vts=lambda x: _ts(x.updated_at)).sort_values("vts")
    tv = tv.drop_duplicates(["entity_id", "vts"], keep="last")
    aw_ts = aw.assign(ats=_ts(aw.awarded_at)).dropna(subset=["ats", "winner_id"]).sort_values("ats")
    at_award = pd.merge_asof(aw_ts[["tender_id", "winner_id", "ats"]], tv.drop(columns=["entity_name"]),
                             left_on="ats", right_on="vts", left_by="winner_id", right_by="entity_id")
    at_award = at_award.set_index("tender_id")
    wt = a.join(at_award[["taxpayer_status", "credit_rating"]], on="tender_id")
    found["cr_tax_abnormal_winner"] |= set(wt[(wt.taxpayer_status == "abnormal") | (wt.credit_rating == "D")].tender_id)
    tax = at_award[["tax_paid_last_year", "insured_employees"]]
    ws = c.join(tax, on="tender_id").join(e[["established_on"]], on="winner_id")
    young = (ws.awd - _day(ws.established_on + "T00:00:00+08:00")) < an.SHELL_MAX_AGE_DAYS
    shell = young & (ws.insured_employees.astype(float) == 0) & (
        money(ws.tax_paid_last_year) < an.SHELL_MAX_TAX_SHARE * money(ws.contract_amount.fillna("nan")))
    found["cr_shell_winner"] |= set(ws[shell.to_numpy()].tender_id)
    # ---- experts
    emp = ev.merge(ex[["expert_id", "employer_id"]], on="expert_id").dropna(subset=["employer_id"])
    lot_bidders = b.groupby("tender_id").bidder_id.apply(set)
    for r in emp[["tender_id", "employer_id"]].drop_duplicates().itertuples():
        if r.employer_id in lot_bidders.get(r.tender_id, set()):
            found["ex_employed_by_bidder"].add(r.tender_id)
    # ---- time limits
    cp = d["complaints"]
    if len(cp):
        fw = cp.dropna(subset=["forwarded_at"])
        late = cal.workdays_between(_day(fw.received_at), _day(fw.forwarded_at)) > an.FORWARD_WORKDAYS
        found["tl_complaint_forward_late"] |= set(fw[late].complaint_id)
        fb = cp.dropna(subset=["feedback_at", "accepted_at"])
        late = cal.workdays_between(_day(fb.accepted_at), _day(fb.feedback_at)) > an.ANSWER_WORKDAYS
        found["tl_complaint_answer_late"] |= set(fb[late].complaint_id)
    cs = d["cases"]
    if len(cs):
        cs = cs.merge(t[["tender_id", "remote_evaluation"]], on="tender_id")
        cs = cs[(cs.subject_type == "expert") & (cs.remote_evaluation == "true")]
        notified = np.where(cs.guest_site_notified_at.isna(), as_of_day,
                            _day(cs.guest_site_notified_at.fillna("1970-01-01T00:00:00+08:00")))
        late = cal.workdays_between(_day(cs.decided_at), notified) > an.GUEST_NOTICE_WORKDAYS
        found["tl_guest_notice_late"] |= set(cs[late].case_id)
    return {r: found.get(r, set()) for r in DETERMINISTIC}


def truth(landing: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    with (landing / "_ground_truth" / "anomalies.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            out[r["rule_id"]].add(r["subject_id"])
    return out


def compare(landing: Path, as_of: str) -> dict[str, tuple[set[str], set[str]]]:
    """rule -> (missed: in truth, not detected; extra: detected, not in truth)."""
    got, want = detect(landing, as_of), truth(landing)
    return {r: (want[r] - got[r], got[r] - want[r]) for r in DETERMINISTIC}


if __name__ == "__main__":
    path, as_of = Path(sys.argv[1]), sys.argv[2]
    for rule, (missed, extra) in compare(path, as_of).items():
        print(f"{rule:<30} truth={len(truth(path)[rule]):>5} missed={len(missed):>4} extra={len(extra):>4}"
              + (f"  e.g. missed {sorted(missed)[:2]} extra {sorted(extra)[:2]}" if missed or extra else ""))
