"""After the award: the award time, candidates' publicity (实施条例第54条), the contract, and
for construction lots the milestones of the works (start, completion, acceptance, final
settlement); the closed-loop anomalies (late contract, deviating amount, start before the
award, settlement overrun, late publicity) are acted out here.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator

import numpy as np

from ggzy.generator import anomalies as an
from ggzy.generator.calendar import to_date
from ggzy.generator.model import NA, Lot

MILESTONES = ("construction_start", "completion", "acceptance", "final_settlement")


class MilestoneLog:
    """The works' milestones in typed arrays (~25 bytes each, not a ~170-byte tuple): lot,
    milestone (index into MILESTONES), day, amount (cents, NA none) and when it was recorded."""

    def __init__(self) -> None:
        self.lot, self.kind, self.day = array("i"), array("b"), array("i")
        self.amount, self.ts = array("q"), array("q")

    def __len__(self) -> int:
        return len(self.lot)

    def add(self, lot: int, kind: int, day: int, amount: int | None, ts: int) -> None:
        self.lot.append(lot)
        self.kind.append(kind)
        self.day.append(day)
        self.amount.append(NA if amount is None else amount)
        self.ts.append(ts)


class PostAward:
    """Mixin of World: what happens to each awarded lot after its award."""

    def milestone_rows(self) -> Iterator[tuple[str, str, str, int, int | None, int]]:
        """(project code, tender id, milestone, day, amount, recorded at) in the order they were drawn."""
        log = self.milestones
        for lot, kind, day, amount, ts in zip(log.lot, log.kind, log.day, log.amount, log.ts, strict=True):
            x = self.lots[lot]
            yield self.projects[x.project].code, x.tender_id, MILESTONES[kind], day, None if amount == NA else amount, ts

    def post_award(self) -> None:
        rng, cal = self.rng, self.cal
        for lot in self.lots:
            if lot.outcome != "awarded" or lot.winner < 0:
                continue
            lot.award_ts = self.ts(lot.award_day, 9, 17)
            # candidates are publicised within 3 days of the evaluation report (the evaluation
            # day), for 3-5 days (实施条例第54条: within 3 days, at least 3 days); planted: 4-11
            # days after the report, or (a third of them) publicised for 1-2 days only
            if lot.anomaly == "tl_publicity_late":
                late = int(rng.integers(13, 21)) - 9
                short = late % 3 == 0
                ps = lot.eval_day + (int(rng.integers(0, 3)) if short else late)
                pe = ps + (1 + late % 2 if short else int(rng.integers(3, 6)))
                lot.detail = (f"candidates publicised {pe - ps} days only" if short
                              else f"candidates publicised {ps - lot.eval_day} days after the evaluation report")
            else:
                ps = lot.eval_day + int(rng.integers(0, 3))
                pe = ps + an.PUBLICITY_MIN_DAYS + int(rng.integers(0, 3))
            lot.pub_start, lot.pub_end = self.shared_int(ps), self.shared_int(pe)
            if lot.control < 0:  # transfers: the confirmation is the contract
                sd = int(cal.add_workdays(lot.award_day, int(rng.integers(3, 10))))
            elif lot.anomaly == "cl_stage_overdue":
                sd = int(cal.next_workday(lot.award_day + int(rng.integers(40, 76))))
                lot.detail = f"contract signed {sd - lot.award_day} days after award" + (
                    " (after the last generated day)" if sd > self.e else "")
            else:
                sd = int(cal.next_workday(lot.award_day + int(rng.integers(5, 26))))
                if sd > lot.award_day + 28:
                    sd = int(cal.prev_workday(lot.award_day + 28))
            lot.contract_ts = self.ts(sd, 9, 17.5)
            amt = lot.award_price
            if lot.anomaly == "cl_contract_deviation":
                f = rng.uniform(0.08, 0.25) if rng.random() < 0.7 else -rng.uniform(0.08, 0.2)
                amt = int(round(amt * (1 + f)))
                lot.detail = f"contract {amt / lot.award_price - 1:+.1%} vs award"
            elif rng.random() < 0.1:
                amt = int(round(amt * (1 + rng.uniform(-0.01, 0.01))))
            lot.contract_amount = amt
            if lot.category == "construction" and lot.project >= 0:
                self.lot_milestones(lot, sd)

    def lot_milestones(self, lot: Lot, signed_day: int) -> None:
        rng = self.rng
        if lot.anomaly == "cl_no_approval" and lot.code is None:
            return
        if lot.anomaly == "cl_start_before_award":
            start = max(self.s, lot.award_day - int(rng.integers(5, 41)))
            lot.detail = f"construction_start {to_date(start)} before award {to_date(lot.award_day)}"
        elif lot.anomaly == "cl_settlement_overrun":
            start = signed_day + int(rng.integers(3, 11))
        else:
            start = signed_day + int(rng.integers(7, 61))
        if lot.anomaly == "cl_settlement_overrun":
            done = start + int(rng.integers(20, 51))
            acc = done + int(rng.integers(5, 16))
            settle = acc + int(rng.integers(5, 21))
            f = rng.uniform(1.15, 1.4)
            lot.detail = f"settlement {f - 1:+.1%} over contract"
        else:
            dur = int(rng.integers(20, 61)) if rng.random() < 0.12 else int(np.exp(rng.normal(np.log(200), 0.5)))
            done = start + dur
            acc = done + int(rng.integers(7, 41))
            settle = acc + int(rng.integers(20, 121))
            f = rng.uniform(0.90, 1.05)
        for kind, day in enumerate((start, done, acc, settle)):
            amount = int(round(lot.contract_amount * f)) if MILESTONES[kind] == "final_settlement" else None
            self.milestones.add(lot.idx, kind, day, amount, self.ts(day + int(rng.integers(0, 4))))
