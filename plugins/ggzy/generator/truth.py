"""Ground truth: which planted anomalies really happened within the range (a planted late
contract whose award falls after the last day did not), written to
`_ground_truth/anomalies.csv` as (rule_id, subject_type, subject_id, detail).
"""

from __future__ import annotations

from ggzy.generator import anomalies as an
from ggzy.generator.calendar import DAY


class GroundTruth:
    """Mixin of World: `collect_truth` runs last, once every lot's fate is known."""

    def add_truth(self, rule: str, subject_type: str, subject_id: str, detail: str) -> None:
        self.truth.append((rule, subject_type, subject_id, detail))

    def collect_truth(self) -> None:
        settled = {tid for _, tid, name, day, _, _ in self.milestone_rows() if name == "final_settlement" and day <= self.e}
        for lot in self.lots:
            a = lot.anomaly
            if lot.ring >= 0 and lot.b1 > lot.b0:
                members = ",".join(self.entities[m].uscc for m in self.rings[lot.ring])
                d = f"ring R{self.serial(lot.ring) + 1:02d} [{members}] winner {self.entities[lot.ring_winner].uscc}"
                self.add_truth("ps_price_screen", "tender", lot.tender_id, d)
                self.add_truth("net_cobid_ring", "tender", lot.tender_id, d)
                if lot.winner >= 0 and lot.award_day <= self.e:
                    self.add_truth("net_rotation", "tender", lot.tender_id, d)
            if not a:
                continue
            has_bids = lot.b1 > lot.b0
            awarded = lot.winner >= 0 and lot.award_day <= self.e
            ok = {
                "cl_no_approval": True, "cl_broken_link": True, "pf_short_bid_period": True, "pf_split_lots": True,
                "cl_contract_deviation": awarded and lot.contract_ts // DAY <= self.e,
                "cl_start_before_award": awarded,
                "cl_settlement_overrun": lot.tender_id in settled,
                "cl_stage_overdue": awarded and lot.award_day + an.CONTRACT_DAYS < self.e,
                "tl_publicity_late": awarded and lot.pub_start <= self.e,
            }.get(a, None)
            if ok is None:
                if a.startswith(("a40_", "a34_", "cr_banned")):
                    ok = has_bids
                elif a in ("ex_employed_by_bidder", "ex_favouritism"):
                    ok = has_bids and bool(lot.panel) and bool(lot.detail)
                else:
                    ok = awarded
            if a == "pf_single_bid":
                ok = awarded and lot.b1 - lot.b0 == 1
            if a == "ex_winner_affinity":
                ok = awarded and self.bid_log.ent[lot.winner] == lot.aff[1] and lot.aff[0] in [p for p, _ in lot.panel]
                lot.detail = f"expert {self.experts[lot.aff[0]].expert_id} on panel, winner {self.entities[lot.aff[1]].uscc}"
            if ok:
                self.add_truth(a, "tender", lot.tender_id, lot.detail or a)
                if a == "pf_all_but_winner_rejected":
                    self.add_truth("pf_single_bid", "tender", lot.tender_id, "implied: only the winner's bid is valid")
        for c in self.complaints:
            if c["rule"]:
                self.add_truth(c["rule"], "complaint", c["id"], c["detail"])
        for c in self.cases:
            if c["late"] and c["notified"] // DAY <= self.e:
                self.add_truth("tl_guest_notice_late", "case", c["id"], c["detail"])
        self.truth.sort()
