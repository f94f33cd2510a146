"""The world as contract-file rows: each record version is added to its file's sink at the
time it happened (that time decides its batch day), in a fixed creation order. A sink is
tables.Rows (all in memory) or tables.SpilledRows (to disk): the rows are the same.

Project codes are typed by people here (spaces, full-width characters: `messy`), department
codes delivered in the trading-centre system's forms (`feed_department_code`).
"""

from __future__ import annotations

import zlib
from typing import Protocol

import numpy as np

from ggzy.generator import anomalies as an
from ggzy.generator.calendar import DAY, to_date
from ggzy.generator.model import stream

FULLWIDTH = str.maketrans({**{chr(ord("0") + i): chr(0xFF10 + i) for i in range(10)}, "-": "\uff0d"})


class Sink(Protocol):
    def add(self, ts: int, **values: object) -> None: ...


class FeedRows:
    """Mixin of World: writes every file's rows except bids and evaluation scores (tables.py
    builds those from the world's compact logs)."""

    def feed_rows(self, sinks: dict[str, Sink]) -> None:
        """All rows, in creation order (the project-code typos draw from one stream in this order)."""
        self._ints.clear()  # master.shared_int: nothing left to share with, room for the rows
        self._messy_rng = stream(self.seed, "messy")
        self._messy_first = False
        self.entity_rows(sinks)
        self.expert_rows(sinks)
        self.project_rows(sinks)
        self.lot_rows(sinks)
        self.oversight_rows(sinks)
        self.credit_rows(sinks)
        self.tax_rows(sinks["taxpayers.csv"])

    def messy(self, code: str | None, share: float) -> str | None:
        """Project codes typed by people: spaces, full-width digits/hyphens (they normalise).

        The first coded tender of a delivery is always messy, so even a tiny run has one.
        """
        if not code:
            return code
        if self._messy_first:
            self._messy_first = False
        elif self._messy_rng.random() >= share:
            return code
        v = int(self._messy_rng.integers(0, 4))
        if v == 0:
            return code.replace("-", " - ")
        if v == 1:
            return code.translate(FULLWIDTH)
        if v == 2:
            return " " + code + "\u3000"
        return code.replace("-", "\uff0d")

    def entity_rows(self, sinks: dict[str, Sink]) -> None:
        """Companies (a second version when the capital changes) and their links: legal representative, staff, shareholders, project managers."""
        ents, persons = self.entities, self.persons
        for e in ents:
            lr_name, lr_id = persons[e.lr]
            c_name, _ = persons[e.contact]
            base = dict(entity_id=e.uscc, entity_name=e.name, entity_role=e.role, legal_rep_name=lr_name,
                        legal_rep_id_no=lr_id, contact_name=c_name, contact_phone=e.phone, address=e.address,
                        region_code=e.county, registered_capital=e.capital, established_on=e.established)
            sinks["entities.csv"].add(e.snap_ts, **base, updated_at=e.snap_ts)
            if e.update_ts > e.snap_ts:
                base["registered_capital"] = int(e.capital * 1.5)
                sinks["entities.csv"].add(e.update_ts, **base, updated_at=e.update_ts)
            links = [("legal_rep", lr_id, lr_name, None), ("staff", persons[e.contact][1], c_name, None)]
            links += [("shareholder", sid, sname, pct) for sid, sname, pct in e.shareholders]
            links += [("project_manager", persons[p][1], persons[p][0], None) for p in e.pms]
            seen_links: set[tuple[str, str]] = set()
            for lt, lid, lname, pct in links:
                if (lt, lid) in seen_links:
                    continue
                seen_links.add((lt, lid))
                sinks["entity_links.csv"].add(e.snap_ts, entity_id=e.uscc, link_type=lt, linked_id=lid,
                                          linked_name=lname, share_pct=pct, updated_at=e.snap_ts)

    def expert_rows(self, sinks: dict[str, Sink]) -> None:
        """Experts (a second version without employer when they retire)."""
        ents = self.entities
        for x in self.experts:
            row = dict(expert_id=x.expert_id, expert_name=x.name,
                       employer_id=ents[x.employer].uscc if x.employer >= 0 else None,
                       specialty=x.specialty, region_code=x.pref)
            sinks["experts.csv"].add(x.snap_ts, **row, updated_at=x.snap_ts)
            if x.retire_ts > x.snap_ts:
                row["employer_id"] = None
                sinks["experts.csv"].add(x.retire_ts, **row, updated_at=x.retire_ts)

    def project_rows(self, sinks: dict[str, Sink]) -> None:
        """Approved projects (a second version when the investment is revised) and construction milestones."""
        ents = self.entities
        for pr in self.projects:
            row = dict(project_name=pr.name, owner_id=ents[pr.owner].uscc, region_code=pr.county, industry=pr.industry,
                       approval_type=pr.approval_type, approval_doc_no=pr.doc_no, approved_at=pr.approved_ts,
                       approved_investment=pr.investment, budget_amount=pr.budget, funding_source=pr.funding)
            sinks["projects.jsonl"].add(pr.approved_ts, project_code=self.messy(pr.code, 0.01), **row, updated_at=pr.approved_ts)
            if pr.v2_ts > pr.approved_ts:
                row["approved_investment"] = int(pr.investment * 1.1)
                sinks["projects.jsonl"].add(pr.v2_ts, project_code=self.messy(pr.code, 0.01), **row, updated_at=pr.v2_ts)
        for code, tid, name, day, amount, ts in self.milestone_rows():
            sinks["milestones.jsonl"].add(ts, project_code=self.messy(code, 0.02), tender_id=tid, milestone=name,
                                      occurred_on=day, amount=amount, updated_at=ts)

    def lot_rows(self, sinks: dict[str, Sink]) -> None:
        """Tender versions (announced, cancelled / opened / failed, awarded), awards and contracts."""
        ents = self.entities
        self._messy_first = True
        for lot in self.lots:
            row = dict(tender_id=lot.tender_id, tender_name=lot.name, category=lot.category, industry=lot.industry,
                       region_code=lot.county, tenderer_id=ents[lot.tenderer].uscc,
                       agency_id=ents[lot.agency].uscc if lot.agency >= 0 else None,
                       procurement_method=lot.method, control_price=lot.control if lot.control >= 0 else None,
                       announced_at=lot.announced, bid_deadline=lot.deadline, evaluation_method=lot.eval_method,
                       evaluation_separated=lot.separated, remote_evaluation=lot.remote, host_site=lot.host,
                       guest_sites=";".join(lot.guests) or None)
            t = sinks["tenders.csv"]
            t.add(lot.announced, **row, project_code=self.messy(lot.code, 0.03), status="announced", updated_at=lot.announced)
            if lot.outcome == "cancelled":
                t.add(lot.cancel_ts, **row, project_code=self.messy(lot.code, 0.03), status="cancelled", updated_at=lot.cancel_ts)
                continue
            op = lot.deadline + 15 * 60
            status = "failed" if lot.outcome == "failed" else "opened"
            t.add(op, **row, project_code=self.messy(lot.code, 0.03), opened_at=lot.deadline, status=status, updated_at=op)
            if lot.winner < 0:
                continue
            t.add(lot.award_ts, **row, project_code=self.messy(lot.code, 0.03), opened_at=lot.deadline, status="awarded",
                  updated_at=lot.award_ts)
            winner = ents[self.bid_log.ent[lot.winner]].uscc
            sinks["awards.csv"].add(lot.award_ts, tender_id=lot.tender_id, winner_id=winner, award_price=lot.award_price,
                                awarded_at=lot.award_ts, publicity_start=lot.pub_start, publicity_end=lot.pub_end,
                                updated_at=lot.award_ts)
            sinks["contracts.csv"].add(lot.contract_ts, contract_id="HT" + lot.tender_id[1:], tender_id=lot.tender_id,
                                   winner_id=winner, contract_amount=lot.contract_amount, signed_at=lot.contract_ts,
                                   updated_at=lot.contract_ts)

    def oversight_rows(self, sinks: dict[str, Sink]) -> None:
        """Complaints (a version per day something happened) and cases (a second version when the guest site is notified later)."""
        for c in self.complaints:
            lot_pref = c["lot"].pref if c["lot"] else None
            state = dict(complaint_id=c["id"], tender_id=c["lot"].tender_id if c["lot"] else None, kind=c["kind"],
                         channel=c["channel"], received_at=c["events"][0][0],
                         received_by=self.feed_department_code(c["received_by"], "complaint", c["id"], "received_by", lot_pref),
                         forwarded_to=self.feed_department_code(c["forwarded_to"], "complaint", c["id"], "forwarded_to", lot_pref))
            by_day: dict[int, int] = {}
            for ts, change in c["events"]:
                state.update(change)
                by_day[ts // DAY] = ts
                state["_ts"] = ts
                c.setdefault("versions", {})[ts // DAY] = dict(state)
            for _, v in sorted(c["versions"].items()):
                ts = v.pop("_ts")
                sinks["complaints.csv"].add(ts, **v, updated_at=ts)
        for c in self.cases:
            row = dict(case_id=c["id"], tender_id=c["lot"].tender_id, subject_type=c["subject_type"],
                       subject_id=c["subject_id"], violation=c["violation"],
                       decided_by=self.feed_department_code(c["decided_by"], "case", c["id"], "decided_by", c["lot"].pref),
                       decided_at=c["decided_ts"], penalty=c["penalty"])
            if c["notified"] >= 0 and c["notified"] // DAY == c["decided_ts"] // DAY:
                sinks["cases.csv"].add(c["notified"], **row, guest_site_notified_at=c["notified"], updated_at=c["notified"])
                continue
            sinks["cases.csv"].add(c["decided_ts"], **row, updated_at=c["decided_ts"])
            if c["notified"] >= 0:
                sinks["cases.csv"].add(c["notified"], **row, guest_site_notified_at=c["notified"], updated_at=c["notified"])

    def credit_rows(self, sinks: dict[str, Sink]) -> None:
        """Credit records (a second version when revoked)."""
        ents = self.entities
        for r in self.credit:
            e = ents[r["ent"]]
            ts = self.ts(r["decided"])
            row = dict(record_id=r["id"], entity_id=e.uscc, entity_name=e.name, list_type=r["list_type"],
                       reason=r["reason"], authority=r["authority"],
                       decision_no=f"云信〔{to_date(r['decided']).year}〕{int(r['id'][-5:])}号",
                       decided_on=r["decided"], effective_from=r["decided"], effective_until=r["until"],
                       measures=r["measures"])
            sinks["records.jsonl"].add(ts, **row, updated_at=ts)
            if r["revoked"] is not None:
                rts = self.ts(r["revoked"])
                sinks["records.jsonl"].add(rts, **row, revoked_on=r["revoked"], updated_at=rts)

    def feed_department_code(self, code: str | None, item_type: str, item_id: str, role: str,
                             lot_pref: str | None) -> str | None:
        """A department code as the trading-centre system writes it: half as this project's
        `<region>-<KIND>`, a quarter as the system's abbreviation with the region
        (530100-ZJJ), a quarter as the bare abbreviation (ZJJ) where the item's lot lies in the
        department's prefecture (the region is then the lot's). Chosen by hash (no random
        stream moves); `_ground_truth/department_codes.csv` lists each delivered form."""
        if not code:
            return code
        region, _, kind = code.partition("-")
        alias = an.DEPARTMENT_ALIASES.get(kind)
        pick = zlib.crc32(f"dept:{self.seed}:{item_id}:{role}".encode()) % 4
        if alias is None or pick < 2:
            delivered = code
        elif pick == 3 and lot_pref == region:
            delivered = alias
        else:
            delivered = f"{region}-{alias}"
        self.department_codes.append((item_type, item_id, role, delivered, code))
        return delivered

    def tax_rows(self, rows: Sink) -> None:
        rng = stream(self.seed, "tax")
        s_date, e_date = to_date(self.s), to_date(self.e)
        updates = []
        for y in range(s_date.year, e_date.year + 1):
            d = int(self.cal.next_workday((np.datetime64(f"{y}-04-20") - np.datetime64("1970-01-01")).astype(int)))
            if self.s <= d <= self.e:
                updates.append((d, y - 1))
        first_year = (updates[0][1] - 1) if updates and updates[0][0] > self.s else s_date.year - 1
        contract_of: dict[int, int] = {}
        for lot in self.lots:
            if lot.winner >= 0:
                contract_of[self.bid_log.ent[lot.winner]] = lot.contract_amount
        for i, e in enumerate(self.entities):
            if e.role not in ("bidder", "agency"):
                continue
            if e.kind == "shell":
                tax = min(int(contract_of.get(i, 10**8) * 0.0004), 300000)
                revenue = tax * 30
            else:
                revenue = e.revenue
                tax = int(revenue * rng.uniform(0.02, 0.06))
            row = dict(entity_id=e.uscc, entity_name=e.name, taxpayer_status=e.tax_status, credit_rating=e.rating,
                       rating_year=first_year, tax_paid_last_year=tax, invoiced_revenue_last_year=revenue,
                       insured_employees=e.employees)
            ts = e.snap_ts + 3600
            rows.add(ts, **row, updated_at=ts)
            for d, y in updates:
                if d * DAY <= ts:
                    continue
                if e.kind == "regular":
                    row["credit_rating"] = "ABMC"[int(rng.choice(4, p=[0.25, 0.5, 0.15, 0.10]))]
                    row["insured_employees"] = max(5, int(e.employees * rng.uniform(0.85, 1.2)))
                    row["tax_paid_last_year"] = int(tax * rng.uniform(0.8, 1.25))
                row["rating_year"] = y
                uts = self.ts(d)
                rows.add(uts, **row, updated_at=uts)
        self.tax_changes_after_award(rows)

    def tax_changes_after_award(self, rows: Sink) -> None:
        """Near-miss of cr_tax_abnormal_winner: a few regular winners become 非正常户 (or are
        rated D) 1-30 days after their last award. The status on the award date was normal, so
        a detector that reads today's status instead of the award date's is wrong on them."""
        rng = stream(self.seed, "tax_after_award")  # own stream: the other tax rows stay as they were
        last_win: dict[int, tuple[int, int]] = {}
        for k, lot in enumerate(self.lots):
            if lot.winner >= 0 and lot.outcome == "awarded" and lot.award_day <= self.e:
                ent = int(self.bid_log.ent[lot.winner])
                if lot.award_day >= last_win.get(ent, (-1, -1))[0]:
                    last_win[ent] = (lot.award_day, k)
        cands = sorted(i for i, (d, _) in last_win.items()
                       if self.entities[i].kind == "regular" and d + 2 <= self.e)
        n = min(len(cands), max(2, round(an.TAX_CHANGE_AFTER_AWARD_RATE * len(self.lots))))
        for i in (rng.choice(cands, n, replace=False) if n else []):
            e, day = self.entities[int(i)], last_win[int(i)][0]
            change = day + int(rng.integers(1, min(30, self.e - day) + 1))
            status, rating = ("abnormal", e.rating) if rng.random() < 0.6 else ("normal", "D")
            uts = self.ts(change)
            rows.add(uts, entity_id=e.uscc, entity_name=e.name, taxpayer_status=status, credit_rating=rating,
                     rating_year=to_date(change).year - 1, tax_paid_last_year=int(e.revenue * 0.03),
                     invoiced_revenue_last_year=e.revenue, insured_employees=e.employees, updated_at=uts)
            self.near_misses.append(("cr_tax_abnormal_winner", "tender", self.lots[last_win[int(i)][1]].tender_id,
                                     f"winner {e.uscc} became {status}/{rating} on {to_date(change)}, after the award"))
