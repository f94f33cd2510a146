"""The bidding of one lot, lot by lot in announcement order: who bids (the regular market,
a ring, or the special companies an anomaly needs), at what price, which bids are rejected,
when and from where each bid was submitted, and who wins (evaluation.py scores the bids).

Every step draws from the world's one random stream in a fixed order, so the same seed
gives the same bids; the steps are split for reading, not reordered.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from ggzy.generator import anomalies as an
from ggzy.generator.calendar import DAY, to_date
from ggzy.generator.model import HOUR, Lot

REJECT_REASONS = ("未按招标文件要求提交投标保证金", "投标文件未按规定签字盖章", "项目经理资格不符合招标文件要求")
SPECIAL_BIDDER_KIND = {"cr_banned_bidder": "banned", "cr_tax_abnormal_winner": "tax_abnormal",
                       "cr_shell_winner": "shell"}
# the bid attribute two or three bidders share under each a40 rule
SHARED_ATTRIBUTE = {"a40_same_file_maker": "file_maker", "a40_same_ca_cert": "ca_cert", "a40_same_ip": "ip",
                    "a40_same_mac": "mac", "a40_same_bond_account": "bond_account",
                    "a40_same_project_manager": "project_manager"}
REJECTION_REASONS = (None, *REJECT_REASONS, "投标报价低于成本且不能合理说明", "投标报价超过最高投标限价")


class BidLog:
    """The year's bids, one entry per bid in the order they were drawn (bid index = position),
    in typed arrays: about 45 bytes a bid. A bid's IP, MAC, file-maker code, CA certificate and
    bond account are its company's (the IP one of the company's two); only where an a40 rule
    made bidders share one is the value kept, in `shared`. The times of a bid's two versions
    are its lot's (all bids of a lot open together and are judged together): kept per lot."""

    TRACES = {"mac": "mac", "file_maker": "fm", "ca_cert": "ca", "bond_account": "bond"}  # bid trace: Entity field

    def __init__(self, lots: int) -> None:
        self.lot, self.ent = array("i"), array("i")
        self.price, self.submitted, self.bond_paid = array("q"), array("q"), array("q")
        # per lot (index = lot.idx): updated_at of its bids' version 1 / version 2 (-1 none)
        self.opened_version, self.validity_version = array("q", [-1]) * lots, array("q", [-1]) * lots
        self.valid, self.reason, self.ip_choice = array("b"), array("b"), array("b")  # reason: REJECTION_REASONS index
        self.project_manager: list[str | None] = []  # id number (a reference to the person's own string)
        self.shared: dict[tuple[int, str], str] = {}  # (bid, trace) -> value copied from another bidder

    def __len__(self) -> int:
        return len(self.lot)

    def trace(self, bid: int, name: str, company) -> str:
        """A bid's trace (ip, mac, file_maker, ca_cert, bond_account) as delivered."""
        if (bid, name) in self.shared:
            return self.shared[(bid, name)]
        if name == "ip":
            return company.ips[self.ip_choice[bid]]
        return getattr(company, self.TRACES[name])


@dataclass
class LotBids:
    """The bids of one lot while it is being simulated, one list entry per bidder."""

    bidders: list[int]  # entity indexes
    prices: list[int] = field(default_factory=list)  # cents
    valid: list[bool] = field(default_factory=list)
    reasons: list[str | None] = field(default_factory=list)
    forced_pos: int = -1  # position of the bidder the plan makes win, -1 none

    @property
    def count(self) -> int:
        return len(self.bidders)


class Bidding:
    """Mixin of World: simulates every lot whose bids open within the range."""

    def draw_bidders(self, group: int, pref: str, n: int) -> list[int]:
        """n distinct regular bidders of the trade group, ~70 % from the lot's prefecture
        (weighted by company size), the rest from the whole province."""
        rng = self.rng
        local = self.pool.get((group, pref), [])
        n_local = min(len(local), int(rng.binomial(n, 0.7)))
        out: list[int] = []
        if n_local:
            # weighted draw without replacement by exponential keys: O(k log n), not a full permutation
            cum = self._cum_weight[(group, pref)]
            picks = np.searchsorted(cum, rng.random(4 * n_local + 8) * cum[-1], side="right")
            out = [local[i] for i in dict.fromkeys(np.minimum(picks, len(local) - 1).tolist())][:n_local]
        if len(out) < n:
            everyone = self._group_all[group]
            taken = set(out)
            cand = [everyone[i] for i in rng.integers(0, len(everyone), size=3 * n + 8)]
            out += [c for c in dict.fromkeys(cand) if c not in taken][: n - len(out)]
        return out

    def simulate(self) -> None:
        self._group_all = {g: sorted(i for (gg, _), v in self.pool.items() if gg == g for i in v) for g in (0, 1, 2)}
        self._cum_weight = {k: np.cumsum([self.weight[i] for i in v]) for k, v in self.pool.items() if v}
        self.emp_experts: dict[int, list[int]] = defaultdict(list)
        for k, x in enumerate(self.experts):
            if x.employer >= 0:
                self.emp_experts[x.employer].append(k)
        self.bid_log = BidLog(len(self.lots))
        for lot in sorted(self.lots, key=lambda x: (x.announced, x.idx)):
            if lot.outcome == "cancelled" or lot.opened_day > self.e or lot.n_bids == 0:
                lot.b0 = lot.b1 = len(self.bid_log)
                continue
            self.simulate_lot(lot)

    def simulate_lot(self, lot: Lot) -> None:
        group = 0 if lot.category == "construction" else (2 if lot.control < 0 else 1)
        bidders = self.lot_bidders(lot, group)
        if not bidders:
            lot.outcome = "failed"
            lot.b0 = lot.b1 = len(self.bid_log)
            return
        bids = LotBids(bidders)
        if lot.forced == -2:
            lot.forced = bidders[int(self.rng.integers(0, bids.count))]
        bids.forced_pos = bidders.index(lot.forced) if lot.forced in bidders else -1
        self.draw_prices(lot, bids)
        evaluated = lot.evaluated and lot.outcome == "awarded"
        self.reject_bids(lot, bids, evaluated)
        particulars = self.bid_particulars(lot, bids, group)
        winner = self.choose_winner(lot, bids, evaluated)
        self.record_bids(lot, bids, particulars, evaluated, winner)

    # ------------------------------------------------------------------ who bids
    def lot_bidders(self, lot: Lot, group: int) -> list[int]:
        """The ring's members, or regular bidders; then the companies the lot's anomaly or
        credit history adds (a sister company, a banned / tax-abnormal / shell company)."""
        if lot.ring >= 0:
            bidders = list(self.rings[lot.ring])
            self.rng.shuffle(bidders)
        else:
            bidders = self.draw_bidders(group, lot.pref, lot.n_bids)
        if not bidders:
            return bidders
        for who in (lot.fav[1], lot.aff[1]):
            if who >= 0 and who not in bidders:
                bidders[-1] = who
        if lot.anomaly.startswith("a34_"):
            bidders.append(self.related_bidder(lot, group, self.entities[bidders[0]]))
        if lot.anomaly in SPECIAL_BIDDER_KIND:
            bidders.append(self.special_credit_bidder(lot, group))
        for extra in lot.extra:
            if extra not in bidders:
                bidders.append(extra)
        return bidders

    def related_bidder(self, lot: Lot, group: int, first) -> int:
        """A company related to the lot's first bidder (投标法实施条例第34条): same legal
        representative, same phone, or a controlled subsidiary."""
        ents = self.entities
        if lot.anomaly == "a34_shared_legal_rep":
            other = self.special_bidder("sister", lot.pref, group, lr=first.lr)
            lot.detail = f"{first.uscc} and {ents[other].uscc} share legal representative {self.persons[first.lr][0]}"
        elif lot.anomaly == "a34_shared_phone":
            other = self.special_bidder("sister", lot.pref, group, phone=first.phone)
            lot.detail = f"{first.uscc} and {ents[other].uscc} share contact phone"
        else:
            other = self.special_bidder("subsidiary", lot.pref, group)
            pct = round(float(self.rng.uniform(51, 100)), 2)
            rest = [(sh[0], sh[1], round(100 - pct, 2)) for sh in ents[other].shareholders[:1]] if pct < 100 else []
            ents[other].shareholders = [(first.uscc, first.name, pct)] + rest
            lot.detail = f"{first.uscc} holds {pct}% of {ents[other].uscc}"
        return other

    def special_credit_bidder(self, lot: Lot, group: int) -> int:
        """A banned, tax-abnormal or shell company that bids on the lot (and, planted so, wins)."""
        rng, ents, anomaly = self.rng, self.entities, lot.anomaly
        established = None
        if anomaly == "cr_shell_winner":
            established = lot.award_day - int(rng.integers(60, 300))
        company = self.special_bidder(SPECIAL_BIDDER_KIND[anomaly], lot.pref, group, established=established)
        if anomaly != "cr_banned_bidder" or lot.detail == "win":
            lot.forced = company
        if anomaly == "cr_banned_bidder":
            decided = lot.announced // DAY - int(rng.integers(20, 200))
            self.banned.append((company, decided))
            lot.detail = f"{ents[company].uscc} bid during its bid ban" + (" and won" if lot.forced == company else "")
        elif anomaly == "cr_shell_winner":
            ents[company].employees, ents[company].rating = 0, "M"
            lot.detail = f"winner {ents[company].uscc} established {to_date(established)}, no insured staff"
        else:
            e = ents[company]
            e.tax_status, e.rating = ("abnormal", e.rating) if rng.random() < 0.6 else ("normal", "D")
            lot.detail = f"winner {e.uscc} taxpayer_status={e.tax_status} rating={e.rating}"
        return company

    # ------------------------------------------------------------------ prices
    def draw_prices(self, lot: Lot, bids: LotBids) -> None:
        """Bid prices in cents: premiums over the reserve (auctions), cover bids just above the
        ring's winner, a regular progression (a40_price_progression), else discounts on the
        control price; then the planted winner's price, no accidental ties or progressions."""
        rng, n, control = self.rng, bids.count, lot.control
        if control < 0:  # auction or listing: bids above the reserve
            premiums = np.sort(rng.uniform(0.0, 0.3, n))
            prices = [int(round(lot.reserve * (1 + p) / 100, -3)) * 100 for p in premiums]
            rng.shuffle(prices)
        elif n == 1 and lot.method == "single_source":
            prices = [int(round(control * rng.uniform(0.9, 0.98) / 100)) * 100]
        elif lot.ring >= 0:
            winning = control * (1 - rng.uniform(0.05, 0.10))
            covers = iter(np.sort(winning * (1 + rng.uniform(0.004, 0.02, n - 1))))
            prices = [int(round(winning)) if b == lot.ring_winner else int(round(next(covers))) for b in bids.bidders]
        elif lot.anomaly == "a40_price_progression":
            step = int(round(control * rng.uniform(0.004, 0.01) / 100)) * 100
            top = int(round(control * rng.uniform(0.93, 0.985) / 100)) * 100
            prices = [top - k * step for k in range(n)]
            rng.shuffle(prices)
            lot.detail = f"{n} bids in steps of {step / 100:.2f} yuan"
        else:
            mean_discount = rng.uniform(0.03, 0.10)
            discount = mean_discount + rng.normal(0, 0.03, n)
            # redraw (not clip) outside the clean band: a clip would pile bids on the bound (a tight, regular cluster)
            low = 1 - an.CLEAN_MAX_DISCOUNT_SHARE
            discount = np.where(discount < low, low + rng.uniform(0.002, 0.04, n),
                                np.where(discount > 0.25, rng.uniform(0.15, 0.25, n), discount))
            raw = control * (1 - discount)
            whole = rng.random(n) < 0.5
            prices = [int(round(v / 100)) * 100 if wh else int(round(v)) for v, wh in zip(raw, whole, strict=True)]
        bids.prices = prices
        self.price_the_planted_winner(lot, bids)
        self.avoid_accidental_patterns(lot, bids)
        if lot.anomaly == "a40_identical_price" and n >= 2:
            i, j = (int(v) for v in rng.choice(n, size=2, replace=False))
            if bids.forced_pos == j:
                i, j = j, i
            prices[j] = prices[i]
            ents = self.entities
            lot.detail = f"{ents[bids.bidders[i]].uscc} and {ents[bids.bidders[j]].uscc} both bid {prices[i] / 100:.2f}"

    def price_the_planted_winner(self, lot: Lot, bids: LotBids) -> None:
        rng, prices, pos, control = self.rng, bids.prices, bids.forced_pos, lot.control
        if pos < 0 or control < 0:
            return
        if lot.anomaly == "cl_award_above_control":
            prices[pos] = int(round(control * rng.uniform(1.01, 1.06)))
            lot.detail = f"award {prices[pos] / control:.3f} x control"
        elif lot.anomaly == "pf_award_near_control":
            prices[pos] = int(round(control * rng.uniform(0.991, 0.999)))
            lot.detail = f"award {prices[pos] / control:.4f} x control"
        elif lot.eval_method == "lowest_price" or lot.anomaly in SPECIAL_BIDDER_KIND:
            others = [p for i, p in enumerate(prices) if i != pos]
            if others and prices[pos] >= min(others):
                prices[pos] = int(round(min(others) * rng.uniform(0.97, 0.995)))

    def avoid_accidental_patterns(self, lot: Lot, bids: LotBids) -> None:
        """Distinct prices within the lot (exact ties are a collusion signal), nor a regular
        progression by chance (auction increments, round numbers)."""
        rng, prices, n = self.rng, bids.prices, bids.count
        seen: set[int] = set()
        for i in range(n):
            while prices[i] in seen:
                prices[i] += 100 * int(rng.integers(1, 20))
            seen.add(prices[i])
        if lot.anomaly != "a40_price_progression" and n >= 3:
            ascending = sorted(range(n), key=lambda i: prices[i])
            steps = {prices[ascending[k + 1]] - prices[ascending[k]] for k in range(n - 1)}
            if len(steps) == 1:
                j = next(i for i in reversed(ascending) if i != bids.forced_pos)
                prices[j] += 100 * int(rng.integers(3, 50))
                while prices[j] in {p for i, p in enumerate(prices) if i != j}:
                    prices[j] += 100

    # ------------------------------------------------------------------ validity
    def reject_bids(self, lot: Lot, bids: LotBids, evaluated: bool) -> None:
        """Which bids the evaluation rejects: all but the winner or the lowest (planted), a few
        at random on clean lots (over the control price, missing bond, ...), never the lowest."""
        rng, prices, n, ents = self.rng, bids.prices, bids.count, self.entities
        bids.valid, bids.reasons = [True] * n, [None] * n
        valid, reasons = bids.valid, bids.reasons
        if not (evaluated and n >= 2):
            return
        ascending = sorted(range(n), key=lambda i: prices[i])
        if lot.anomaly == "pf_all_but_winner_rejected":
            for i in ascending[1:]:
                valid[i], reasons[i] = False, REJECT_REASONS[int(rng.integers(0, 3))]
            lot.forced = bids.bidders[ascending[0]]
            bids.forced_pos = ascending[0]
            lot.detail = f"{n - 1} of {n} bids rejected; winner {ents[bids.bidders[bids.forced_pos]].uscc}"
        elif lot.anomaly == "pf_lowest_rejected":
            valid[ascending[0]], reasons[ascending[0]] = False, "投标报价低于成本且不能合理说明"
            lot.detail = f"lowest bid {ents[bids.bidders[ascending[0]]].uscc} rejected"
        elif not lot.anomaly and lot.ring < 0 and n >= 4 and not lot.extra:
            for i in ascending[1:]:
                if i == bids.forced_pos or sum(valid) <= 3:
                    continue
                u = rng.random()
                if u < 0.03:
                    prices[i] = int(round(lot.control * rng.uniform(1.001, 1.05)))
                    valid[i], reasons[i] = False, "投标报价超过最高投标限价"
                elif u < 0.05:
                    valid[i], reasons[i] = False, REJECT_REASONS[int(rng.integers(0, 3))]
            lowest = min(range(n), key=lambda i: prices[i])
            if not valid[lowest]:
                valid[lowest], reasons[lowest] = True, None

    # ------------------------------------------------------------------ submission
    def bid_particulars(self, lot: Lot, bids: LotBids, group: int) -> dict[str, list]:
        """When each bid was submitted and its bond paid, and the traces it left: client IP and
        MAC, file-maker code, CA certificate, bond account, project manager (construction)."""
        rng, ents, n = self.rng, self.entities, bids.count
        deadline, announced = lot.deadline, lot.announced
        span = max(1200, min(5 * DAY, deadline - announced - DAY))
        submitted = [deadline - int(rng.integers(600, span)) for _ in range(n)]
        pos = bids.forced_pos
        if lot.anomaly == "pf_late_winning_bid" and pos >= 0:
            submitted[pos] = deadline + int(rng.integers(5, 91)) * 60
            lot.detail = (f"winning bid {ents[bids.bidders[pos]].uscc} submitted "
                          f"{(submitted[pos] - deadline) // 60} min after the deadline")
        companies = [ents[b] for b in bids.bidders]
        out = {"submitted": submitted,
               "bond_paid": [max(announced + HOUR, s - int(rng.integers(HOUR, 3 * DAY))) for s in submitted],
               "ip": [c.ips[int(rng.integers(0, 2))] for c in companies],
               "mac": [c.mac for c in companies], "file_maker": [c.fm for c in companies],
               "ca_cert": [c.ca for c in companies], "bond_account": [c.bond for c in companies],
               "project_manager": [self.persons[c.pms[int(rng.integers(0, len(c.pms)))]][1]
                                   if (group == 0 and c.pms) else None for c in companies]}
        shared = SHARED_ATTRIBUTE.get(lot.anomaly)
        if shared is not None and n >= 2:
            values = out[shared]
            k = 3 if (n >= 3 and rng.random() < 0.3) else 2
            sharing = [int(v) for v in rng.choice(n, size=k, replace=False)]
            for j in sharing[1:]:
                values[j] = values[sharing[0]]
            lot.detail = f"{k} bidders share {lot.anomaly[9:]}: " + ",".join(ents[bids.bidders[j]].uscc for j in sharing)
        return out

    # ------------------------------------------------------------------ award
    def choose_winner(self, lot: Lot, bids: LotBids, evaluated: bool) -> int:
        """The winning position: highest bid at auction, the panel's choice when evaluated
        (the planted winner made best, a favoured company scored up), else the first valid;
        -1 (lot failed) without a valid bid."""
        rng, n, pos = self.rng, bids.count, bids.forced_pos
        quality = rng.normal(0, 1, n)
        favoured = lot.fav[1]
        if favoured in bids.bidders and favoured != lot.forced:
            quality[bids.bidders.index(favoured)] = rng.uniform(-1.5, -0.8)
        if pos >= 0:
            quality[pos] = max(quality) + 1.5
        winner = -1
        if lot.outcome == "awarded":
            valid_pos = [i for i in range(n) if bids.valid[i]]
            if lot.control < 0:
                winner = max(range(n), key=lambda i: bids.prices[i])
            elif evaluated and valid_pos:
                winner = self.evaluate(lot, bids.bidders, bids.prices, valid_pos, quality, pos)
            else:
                winner = valid_pos[0] if valid_pos else -1
        if winner < 0 and lot.outcome == "awarded":
            lot.outcome = "failed"
        return winner

    def record_bids(self, lot: Lot, bids: LotBids, particulars: dict[str, list], evaluated: bool, winner: int) -> None:
        """Append the lot's bids to the year's bid log. Version 1 at the opening; version 2
        (validity) on the evaluation day when that is a later day."""
        rng, log = self.rng, self.bid_log
        base = len(log)
        lot.b0, lot.b1 = base, base + bids.count
        opened_version = lot.deadline + int(rng.integers(5, 40)) * 60
        validity_version = self.ts(lot.eval_day, 14, 18) if (evaluated and lot.eval_day > lot.opened_day) else -1
        if evaluated and validity_version < 0:
            # validity known the same afternoon
            opened_version = max(opened_version, lot.deadline + 2 * HOUR + int(rng.integers(0, 240)) * 60)
        log.opened_version[lot.idx], log.validity_version[lot.idx] = opened_version, validity_version
        p = particulars
        for i, company in enumerate(bids.bidders):
            own = self.entities[company]
            for name in ("ip", *BidLog.TRACES):
                if p[name][i] not in (own.ips if name == "ip" else (getattr(own, BidLog.TRACES[name]),)):
                    log.shared[(base + i, name)] = p[name][i]
            log.lot.append(lot.idx)
            log.ent.append(company)
            log.price.append(bids.prices[i])
            log.submitted.append(p["submitted"][i])
            log.bond_paid.append(p["bond_paid"][i])
            log.valid.append(int(bids.valid[i]))
            log.reason.append(REJECTION_REASONS.index(bids.reasons[i]))
            log.ip_choice.append(own.ips.index(p["ip"][i]) if p["ip"][i] in own.ips else 0)
            log.project_manager.append(p["project_manager"][i])
        if winner >= 0:
            lot.winner = base + winner
            lot.award_price = bids.prices[winner]
