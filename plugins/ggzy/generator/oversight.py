"""Oversight: complaints and reports about lots (received, forwarded to the supervising
department, accepted, answered, resolved, in working days) and the administrative cases that
penalise a bidder, expert, agency or tenderer; the time-limit anomalies (late forwarding,
late answer, guest site notified late of a remote-evaluation case) are planted here.
"""

from __future__ import annotations

from ggzy.generator import anomalies as an
from ggzy.generator.calendar import to_date
from ggzy.generator.model import Lot
from ggzy.generator.regions import supervising_suffix

PENALTIES = {"bidder": ("罚款{m}元，取消中标资格", "罚款{m}元，一年内禁止参加依法必须进行招标的项目投标"),
             "agency": ("罚款{m}元，暂停代理业务六个月",), "tenderer": ("责令改正，罚款{m}元",),
             "expert": ("取消评标专家资格", "警告，暂停评标资格一年")}


class Oversight:
    """Mixin of World: the year's complaints (dicts with their event timeline) and cases."""

    def build_complaints_cases(self) -> None:
        rng, cal, e = self.rng, self.cal, self.e
        n = 0
        for lot in self.lots:
            if lot.b1 > lot.b0 and rng.random() < 0.03:
                rd = int(cal.add_workdays(lot.opened_day, int(rng.integers(1, 10))))
                self.new_complaint(lot, rd, "report" if rng.random() < 0.2 else "complaint")
                n += 1
        for _ in range(max(1, round(0.004 * len(self.lots)))):
            self.new_complaint(None, int(rng.choice(self.range_workdays)), "report")
        # time-limit injections
        for rule, rate in an.COMPLAINT_RATES.items():
            cands = [c for c in self.complaints if not c["rule"] and int(cal.add_workdays(c["rd"], 25)) <= e
                     and (c["forwarded_to"] or rule != "tl_complaint_forward_late")]
            k = min(len(cands), max(1, round(rate * len(self.complaints) * self.anomaly_rate))) if self.anomaly_rate > 0 else 0
            for i in sorted(rng.choice(len(cands), size=k, replace=False).tolist()) if k else []:
                cands[i]["rule"] = rule
        for c in self.complaints:
            self.complaint_timeline(c)
        # cases
        awarded = [x for x in self.lots if x.outcome == "awarded" and x.winner >= 0]
        for lot in awarded:
            if rng.random() < 0.008:
                self.new_case(lot, str(rng.choice(["bidder", "expert", "agency", "tenderer"], p=[0.5, 0.25, 0.15, 0.1])))
        if self.anomaly_rate > 0:
            with_case = {c["lot"].idx for c in self.cases}
            cands = [x for x in awarded if x.remote and x.panel_packed and x.idx not in with_case
                     and int(cal.add_workdays(cal.next_workday(x.award_day + 60), 21)) <= e]
            k = min(len(cands), max(1, round(an.GUEST_CASES_RATE * len(self.lots) * self.anomaly_rate)))
            for i in sorted(rng.choice(len(cands), size=k, replace=False).tolist()) if k else []:
                self.new_case(cands[i], "expert", late=True)

    def new_complaint(self, lot: Lot | None, rd: int, kind: str) -> None:
        rng = self.rng
        pref = lot.pref if lot else self.pick_pref()
        suffix = supervising_suffix(lot.category, lot.industry) if lot else "HOUSING"
        dept = f"{pref}-{suffix}"
        direct = rng.random() < 0.15
        recv = dept if direct else (f"{pref}-GGZY" if rng.random() < 0.85 else "530000-GGZY")
        year = to_date(rd).year
        self.complaints.append(dict(
            id=f"TS{year}{self.serial(len(self.complaints)) + 1:05d}", lot=lot, kind=kind, rd=rd, received_by=recv,
            forwarded_to=None if direct else dept, channel="online" if rng.random() < 0.7 else "paper", rule=""))

    def complaint_timeline(self, c: dict) -> None:
        rng, cal = self.rng, self.cal
        rts = self.ts(c["rd"])
        ev: list[tuple[int, dict]] = [(rts, {"outcome": "pending"})]
        fd = c["rd"]
        if c["forwarded_to"]:
            n = int(rng.integers(5, 11)) if c["rule"] == "tl_complaint_forward_late" else int(rng.integers(0, 3))
            fd = int(cal.add_workdays(c["rd"], n))
            fts = max(rts + 600, self.ts(fd))
            ev.append((fts, {"forwarded_at": fts}))
        ad = int(cal.add_workdays(fd, int(rng.integers(0, 3))))
        ats = max(ev[-1][0] + 600, self.ts(ad))
        ev.append((ats, {"accepted_at": ats}))
        n = int(rng.integers(8, 16)) if c["rule"] == "tl_complaint_answer_late" else int(rng.integers(1, 5))
        fb = int(cal.add_workdays(ad, n))
        fbts = self.ts(fb)
        ev.append((fbts, {"feedback_at": fbts}))
        res = int(cal.add_workdays(ad, max(n + 1, int(rng.integers(8, 31)))))
        rests = self.ts(res)
        outcome = str(rng.choice(["upheld", "partly_upheld", "rejected", "withdrawn"], p=[0.2, 0.15, 0.55, 0.1]))
        ev.append((rests, {"resolved_at": rests, "outcome": outcome}))
        c["events"] = ev
        if c["rule"] == "tl_complaint_forward_late":
            c["detail"] = f"forwarded after {int(cal.workdays_between(c['rd'], fd))} working days"
        elif c["rule"] == "tl_complaint_answer_late":
            c["detail"] = f"feedback {int(cal.workdays_between(ad, fb))} working days after acceptance"

    def new_case(self, lot: Lot, subject_type: str, late: bool = False) -> None:
        rng, cal = self.rng, self.cal
        dd = int(cal.next_workday(lot.award_day + int(rng.integers(20, 61 if late else 151))))
        lo, hi = lot.b0, lot.b1
        if subject_type == "expert" and not lot.panel:
            subject_type = "bidder"
        if subject_type == "bidder":
            sid = self.entities[self.bid_log.ent[int(rng.integers(lo, hi))]].uscc
            violation = str(rng.choice(["collusion", "fraud", "other"], p=[0.5, 0.35, 0.15]))
        elif subject_type == "expert":
            guests = [p for p, s in lot.panel if s != lot.host] or [p for p, _ in lot.panel]
            sid = self.experts[guests[int(rng.integers(0, len(guests)))]].expert_id
            violation = str(rng.choice(["expert_misconduct", "bribery"], p=[0.85, 0.15]))
        elif subject_type == "agency" and lot.agency >= 0:
            sid, violation = self.entities[lot.agency].uscc, "other"
        else:
            subject_type, sid, violation = "tenderer", self.entities[lot.tenderer].uscc, "other"
        penalty = PENALTIES[subject_type][int(rng.integers(0, len(PENALTIES[subject_type])))].format(
            m=int(rng.integers(1, 50)) * 10000)
        notified = -1
        if subject_type == "expert" and lot.remote:
            n = int(rng.integers(10, 21)) if late else int(rng.integers(1, 6))
            notified = self.ts(int(cal.add_workdays(dd, n)))
        year = to_date(dd).year
        case = dict(id=f"CF{year}{self.serial(len(self.cases)) + 1:05d}", lot=lot, subject_type=subject_type, subject_id=sid,
                    violation=violation, decided_by=f"{lot.pref}-{supervising_suffix(lot.category, lot.industry)}",
                    decided_ts=self.ts(dd), penalty=penalty, notified=notified, late=late)
        if late:
            case["detail"] = f"guest site notified {n} working days after the decision"
        self.cases.append(case)
