"""Anomaly planting: which lots will break which rule (anomalies.py gives the rates), decided
before the bidding so the simulation can act them out; rings of colluding companies, split
lots, favoured (expert, company) pairs, and clean companies whose credit ban has ended.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import numpy as np

from ggzy.generator import anomalies as an
from ggzy.generator.calendar import DAY, to_date
from ggzy.generator.model import Lot


class Candidates(NamedTuple):
    """Lots an anomaly can be planted on, by what the rule needs to be visible in the range."""

    awarded: list[Lot]  # awarded within the range
    multi: list[Lot]  # awarded, evaluated, competitive, 3+ bids planned
    opened: list[Lot]  # the same, but opened (not necessarily awarded) within the range
    construction: list[Lot]  # multi construction lots with a project code, not negotiated


class AnomalyPlanting:
    """Mixin of World: marks lots with the anomaly they will carry (`lot.anomaly`, `lot.ring`, ...)."""

    def count(self, rule: str) -> int:
        if self.anomaly_rate <= 0:
            return 0
        return max(1, round(an.RATES[rule] * len(self.lots) * self.anomaly_rate))

    def pick(self, rule: str, cands: list[Lot], n: int | None = None) -> list[Lot]:
        cands = [lot for lot in cands if not lot.anomaly and lot.ring < 0]
        n = min(len(cands), self.count(rule) if n is None else n)
        if n <= 0:
            return []
        chosen = [cands[i] for i in sorted(self.rng.choice(len(cands), size=n, replace=False).tolist())]
        for lot in chosen:
            lot.anomaly = rule
        return chosen

    def plan_anomalies(self) -> None:
        """Plant every rule's anomalies, rings first (they take whole lots); the order is fixed
        (each step draws from the world's stream and takes lots the steps before left free)."""
        e = self.e
        awarded = [x for x in self.lots if x.outcome == "awarded" and x.award_day <= e]
        multi = [x for x in awarded if x.evaluated and x.method != "single_source" and x.n_bids >= 3]
        pools = Candidates(
            awarded=awarded, multi=multi,
            opened=[x for x in self.lots if x.outcome == "awarded" and x.opened_day <= e and x.n_bids >= 3
                    and x.evaluated and x.method != "single_source"],
            construction=[x for x in multi if x.category == "construction" and x.code
                          and x.method != "competitive_negotiation"])
        self.plant_rings(pools.opened)
        self.plant_closed_loop(pools)
        self.plant_collusion_signals(pools.opened)
        self.plant_procedure(pools)
        self.plant_split_lots()
        self.plant_credit_and_experts(pools)

    def plant_rings(self, opened: list[Lot]) -> None:
        """Bid-rigging rings: 3-5 new companies bid together on open construction lots of one
        prefecture and take turns winning."""
        rng = self.rng
        n_rings = max(3, round(an.RINGS_PER_SCALE * self.scale)) if self.anomaly_rate > 0 else 0
        by_pref: dict[str, list[Lot]] = defaultdict(list)
        for x in opened:
            if x.category == "construction" and x.method == "open":
                by_pref[x.pref].append(x)
        self.rings: list[list[int]] = []
        for _ in range(n_rings):
            prefs = sorted(p for p, v in by_pref.items() if sum(1 for x in v if x.ring < 0) >= 2)
            if not prefs:
                break
            sizes = np.array([len(by_pref[p]) for p in prefs], dtype=float)
            pref = prefs[int(rng.choice(len(prefs), p=sizes / sizes.sum()))]
            free = [x for x in by_pref[pref] if x.ring < 0 and not x.anomaly]
            want = max(3, round(rng.uniform(10, 25) * self.days / 365 * max(self.anomaly_rate, 0.2)))
            if len(free) < 2:
                continue
            size = int(rng.integers(3, 6))
            members = [self.special_bidder("ring", pref, 0) for _ in range(size)]
            self.rings.append(members)
            chosen = sorted(rng.choice(len(free), size=min(want, len(free)), replace=False).tolist())
            turn = int(rng.integers(0, size))
            for i in chosen:
                lot = free[i]
                lot.ring, lot.ring_winner, lot.n_bids = len(self.rings) - 1, members[turn % size], size
                lot.forced = lot.ring_winner
                turn += 1

    def plant_closed_loop(self, pools: Candidates) -> None:
        """Approval, contract, construction and publicity anomalies (the closed loop)."""
        rng, e = self.rng, self.e
        for lot in self.pick("cl_no_approval", list(pools.construction)):
            project = self.projects[lot.project]
            if len(project.lots) == 1 and rng.random() < 0.5:
                late = int(self.cal.next_workday(lot.announced // DAY + int(rng.integers(5, 40))))
                if late <= e:
                    project.approved_ts = self.ts(late)
                    project.v2_ts = -1
                    lot.detail = f"approved_after_announcement: project {project.code} approved {to_date(late)}"
                    continue
            lot.code = None
            lot.detail = "no_code: construction lot tendered without a project code"
        for lot in self.pick("cl_broken_link", pools.construction):
            code = lot.code or ""
            variant = int(rng.integers(0, 3))
            if variant == 0 and "0" in code[5:11]:
                lot.code = code[:5] + code[5:11].replace("0", "O", 1) + code[11:]
            elif variant <= 1:
                lot.code = code[:-7] + code[-5:]  # serial segment too short
            else:
                lot.code = f"{code[:-6]}{900000 + int(rng.integers(0, 99999)):06d}"  # well-formed, unknown
            lot.detail = f"project code {lot.code!r} does not link (true project {code})"
        comprehensive = [x for x in pools.multi if x.eval_method == "comprehensive"]
        for rule in ("cl_award_above_control", "pf_award_near_control"):
            for lot in self.pick(rule, comprehensive):
                lot.forced = -2  # a regular bidder of the lot, chosen when bids are drawn
        self.pick("cl_contract_deviation", [x for x in pools.multi if x.award_day + 30 <= e])
        self.pick("cl_start_before_award", [x for x in pools.construction if x.award_day - 6 >= self.s])
        self.pick("cl_settlement_overrun", [x for x in pools.construction if x.award_day + 150 <= e])
        self.pick("cl_stage_overdue", [x for x in pools.multi if x.award_day + 35 <= e])
        # 中标候选人公示 (实施条例第54条) concerns tendered lots (open or invited) with an evaluation report
        self.pick("tl_publicity_late", [x for x in pools.multi if x.method in an.TENDER_METHODS
                                        and int(self.cal.add_workdays(x.award_day, 20)) <= e])

    def plant_collusion_signals(self, opened: list[Lot]) -> None:
        """投标法实施条例第40条 (shared traces, identical or stepped prices) and 第34条 (related bidders)."""
        for rule in ("a40_same_file_maker", "a40_same_ca_cert", "a40_same_ip", "a40_same_mac",
                     "a40_same_bond_account", "a40_identical_price"):
            self.pick(rule, opened)
        self.pick("a40_same_project_manager", [x for x in opened if x.category == "construction"])
        for lot in self.pick("a40_price_progression", opened):
            lot.n_bids = int(self.rng.integers(4, 7))
        for rule in ("a34_shared_legal_rep", "a34_controlling_shareholder", "a34_shared_phone"):
            self.pick(rule, opened)

    def plant_procedure(self, pools: Candidates) -> None:
        """Procedure flags: single bid, rejections, a short bid period, a late winning bid."""
        for lot in self.pick("pf_single_bid", [x for x in pools.awarded if x.evaluated and x.method != "single_source"]):
            lot.n_bids = 1
        for lot in self.pick("pf_all_but_winner_rejected", pools.multi):
            lot.n_bids = max(3, lot.n_bids)
        for lot in self.pick("pf_lowest_rejected", [x for x in pools.multi if x.eval_method == "lowest_price"]):
            lot.n_bids = max(4, lot.n_bids)
        open_construction = [x for x in self.lots if x.category == "construction" and x.method == "open"
                             and x.outcome != "cancelled" and x.code]
        for lot in self.pick("pf_short_bid_period", open_construction):
            self.lot_dates(lot, lot.announced // DAY, short=True)
            lot.detail = f"bid period {(lot.deadline - lot.announced) / DAY:.1f} days (legal minimum 20)"
        for lot in self.pick("pf_late_winning_bid", pools.multi):
            lot.forced = -2

    def plant_split_lots(self) -> None:
        """New groups of 3-4 lots each under the mandatory-tender threshold (they join the normal lifecycle)."""
        if self.anomaly_rate <= 0:
            return
        rng = self.rng
        groups = max(1, round(an.RATES["pf_split_lots"] * len(self.lots) * self.anomaly_rate / 3))
        for _ in range(groups):
            first = int(rng.choice(self.range_workdays[: max(1, len(self.range_workdays) - 10)]))
            n_before = len(self.lots)
            self.new_project_with_lots(first, int(rng.integers(3, 5)), split=True)
            group = self.lots[n_before:]
            tender_ids = ",".join(x.tender_id for x in group)
            for lot in group:
                lot.anomaly = "pf_split_lots"
                lot.detail = f"tenderer {self.entities[lot.tenderer].uscc} lots {tender_ids}"

    def plant_credit_and_experts(self, pools: Candidates) -> None:
        """Banned, tax-abnormal and shell companies that join a lot and (mostly) win; experts
        employed by a bidder; (expert, company) pairs over several lots (favouritism, affinity:
        the statistical expert rules need repetition)."""
        for lot in self.pick("cr_banned_bidder", pools.opened):
            lot.detail = "win" if self.rng.random() < 0.5 else "bid"
        self.pick("cr_tax_abnormal_winner", pools.multi)
        self.pick("cr_shell_winner", [x for x in pools.multi if x.award_day + 30 <= self.e])
        self.pick("ex_employed_by_bidder", list(pools.opened))
        favoured = self.pick("ex_favouritism", [x for x in pools.opened if x.category == "construction"
                                                and x.eval_method == "comprehensive"],
                             max(3, self.count("ex_favouritism")))
        self.assign_pairs(favoured, "fav")
        affine = self.pick("ex_winner_affinity", [x for x in pools.multi if x.category == "construction"],
                           max(8, self.count("ex_winner_affinity")))
        self.assign_pairs(affine, "aff")

    def assign_pairs(self, lots: list[Lot], what: str) -> None:
        """Chunk the chosen lots (in time order) into (special expert, regular company) pairs.

        Favouritism: 2–4 lots per pair (the expert favours that company each time);
        affinity: 8–12 lots per pair, all won by the company with the expert on the panel.
        """
        lots = sorted(lots, key=lambda x: x.announced)
        i = 0
        while i < len(lots):
            size = int(self.rng.integers(2, 5)) if what == "fav" else int(self.rng.integers(8, 13))
            chunk = lots[i:i + size]
            i += size
            pref = chunk[0].pref
            pool = self.pool[(0, pref)] or [b for (g, _), v in sorted(self.pool.items()) if g == 0 for b in v]
            company = pool[int(self.rng.integers(0, len(pool)))]
            expert = self.special_expert(0, pref)
            for x in chunk:
                if what == "fav":
                    x.fav = (expert, company)
                else:
                    x.aff = (expert, company)
                    x.forced = company

    def plan_credit_history(self) -> None:
        """Serious-dishonest companies whose ban ended (信用修复 or expiry): they bid again, cleanly."""
        rng = self.rng
        self.credit_specials: list[tuple[int, str, int, int | None, int | None]] = []
        later = [x for x in self.lots if x.outcome == "awarded" and x.opened_day <= self.e and x.evaluated
                 and x.category == "construction" and not x.anomaly and x.ring < 0 and x.n_bids >= 3]
        for k in range(max(2, round(20 * self.scale))):
            pref = self.pick_pref()
            ent = self.special_bidder("credit_repaired", pref, 0)
            decided = self.s - int(rng.integers(100, 500))
            if k % 2 == 0:  # revoked (信用修复) inside the range; bids only after it
                revoked = int(rng.choice(self.range_workdays[: max(1, int(len(self.range_workdays) * 0.8))]))
                self.credit_specials.append((ent, "revoked", decided, decided + 3 * 365, revoked))
                after = [x for x in later if x.opened_day > revoked + 2 and x.announced // DAY > revoked]
            else:  # expired before the range
                decided -= 1500
                until = self.s - int(rng.integers(10, 300))
                self.credit_specials.append((ent, "expired", decided, until, None))
                after = later
            for i in sorted(rng.choice(len(after), size=min(2, len(after)), replace=False).tolist()) if after else []:
                after[i].extra += (ent,)
