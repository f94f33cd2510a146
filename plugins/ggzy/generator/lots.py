"""Approved projects and the lots tendered for them (construction), plus single lots of the
other categories (procurement, land, mining rights, state assets), with their dates: the
announcement on a working day, the bid deadline after the legal minimum, evaluation and award.
"""

from __future__ import annotations

import sys

import numpy as np

from ggzy.feeds import contract as fc
from ggzy.generator import anomalies as an
from ggzy.generator.calendar import DAY, to_date
from ggzy.generator.model import Lot, Project
from ggzy.generator.regions import PREFECTURES, SHORT_NAMES

INDUSTRY_CODE = {"housing": "47", "transport": "48", "water": "76", "agriculture": "05",
                 "natural_resources": "77", "medical": "84", "other": "78"}
APPROVAL_TT = {"approval": "01", "verification": "02", "filing": "03"}
PROJECT_OBJECTS = {
    "housing": ("保障性住房", "城中村改造", "第一中学教学楼", "人民医院住院楼", "老旧小区改造", "农贸市场"),
    "transport": ("农村公路提升改造", "县道改扩建", "城市道路", "客运站", "桥梁加固"),
    "water": ("中型水库", "灌区续建配套与节水改造", "城乡供水一体化", "河道综合治理", "污水处理厂"),
    "agriculture": ("高标准农田建设", "现代农业产业园", "烟水配套工程"),
    "natural_resources": ("矿山生态修复", "土地整治", "地质灾害综合治理"),
    "medical": ("中医医院门诊楼", "疾控中心实验楼"),
    "other": ("市政综合管网", "公园绿化提升", "智慧城市"),
}
PROCUREMENT_OBJECTS = ("医疗设备采购", "信息化系统建设", "办公设备采购", "物业管理服务采购", "校园食堂食材配送服务",
                       "农机具采购", "公务用车采购", "教学设备采购", "网络安全服务")


class LotPlanning:
    """Mixin of World: the year's projects and lots, before anything is bid."""

    def project_code(self, year: int, county: str, industry: str, approval_type: str) -> str:
        self._serials[(year, county)] += 1
        serial = self.serial(self._serials[(year, county)] - 1) + 1
        return f"{year}-{county}-{INDUSTRY_CODE[industry]}-{APPROVAL_TT[approval_type]}-{serial:06d}"

    def lot_dates(self, lot: Lot, announce_day: int, period: int | None = None, short: bool = False) -> None:
        rng = self.rng
        lot.announced = self.ts(announce_day, 8.5, 17.5)
        minimum = an.MIN_BID_DAYS[lot.method]
        if short:
            d = int(self.cal.prev_workday(announce_day + int(rng.integers(10, 18))))
        else:
            extra = int(rng.integers(0, 15)) if period is None else period
            if lot.method in an.MIN_BID_WORKDAY_METHODS:
                # the minimum is in working days: across a weekend or Spring Festival a calendar
                # count would fall short (Thu -> Mon = 2 working days)
                d = int(self.cal.add_workdays(announce_day, minimum + extra // 2))
            else:
                d = int(self.cal.next_workday(announce_day + minimum + 1 + extra))
        lot.deadline = self.shared_int(d * DAY + (9 * 60 + 30 + 30 * int(rng.integers(0, 2)) + 300 * int(rng.integers(0, 2))) * 60)
        big = lot.control >= an.CONSTRUCTION_THRESHOLD_YUAN * 100
        lot.eval_day = self.shared_int(int(self.cal.add_workdays(d, 1)) if (lot.evaluated and big) else d)
        if lot.evaluated:
            lot.award_day = self.shared_int(int(self.cal.add_workdays(lot.eval_day, int(rng.integers(4, 8)))))
        else:
            lot.award_day = self.shared_int(int(self.cal.add_workdays(d, int(rng.integers(0, 3)))))

    def new_lot(self, category: str, industry: str, method: str, pref: str, tenderer: int, control: int,
                announce_day: int, name: str, project: int = -1) -> Lot:
        rng = self.rng
        auction = method in ("auction", "listing")
        ev = None if auction else ("lowest_price" if (method == "inquiry" or rng.random() < 0.25) else "comprehensive")
        remote = bool(ev and method not in ("single_source", "inquiry") and rng.random() < 0.2)
        host = pref
        guests: tuple[str, ...] = ()
        if remote:
            others = [p for p in PREFECTURES if p != pref]
            guests = tuple(sorted(sys.intern(g) for g in rng.choice(others, size=int(rng.integers(1, 3)), replace=False).tolist()))
        year = to_date(announce_day).year
        serial = self.serial(len(self.lots))
        tid = f"E{pref}{year}{serial:06d}{1 + (serial * 7) % 3:03d}"
        if method == "single_source":
            n = 1
        elif auction:
            n = int(rng.integers(2, 7))
        else:
            mean = {"construction": 11.0, "government_procurement": 6.0}.get(category, 5.0)
            n = 3 + int(rng.negative_binomial(3, 3 / (3 + mean - 3)))
        u = rng.random()
        outcome = "cancelled" if u < 0.02 else ("failed" if (u < 0.06 and method != "single_source") else "awarded")
        if outcome == "failed":
            n = 0 if rng.random() < 0.4 else 2
        if outcome == "cancelled":
            n = 0
        agency = -1
        if not auction and rng.random() < 0.7:
            ags = self.agencies_by_pref.get(pref) or [a for v in self.agencies_by_pref.values() for a in v]
            agency = ags[int(rng.integers(0, len(ags)))]
        # drawn names of a few kinds (str(rng.choice(...)) makes a new string each time): one copy each
        industry, method = sys.intern(industry), sys.intern(method)
        lot = Lot(idx=len(self.lots), tender_id=tid, category=category, industry=industry, method=method,
                  county=self.entities[tenderer].county, pref=pref, tenderer=tenderer, agency=agency,
                  control=-1 if auction else control, reserve=control if auction else -1, announced=0, deadline=0,
                  eval_method=ev, separated=bool(category == "construction" and ev == "comprehensive" and rng.random() < 0.1),
                  remote=remote, host=host, guests=guests, outcome=outcome, n_bids=n, name=name, project=project)
        self.lot_dates(lot, announce_day)
        if outcome == "cancelled":
            lot.cancel_ts = self.ts(announce_day + int(rng.integers(2, max(3, lot.opened_day - announce_day))))
        self.lots.append(lot)
        return lot

    @staticmethod
    def clean_control(cents: int) -> int:
        """Keep clean construction lots out of the band just under the mandatory-tender threshold."""
        lo = an.CONSTRUCTION_THRESHOLD_YUAN * an.SPLIT_BAND[0] * 100
        if lo <= cents < an.CONSTRUCTION_THRESHOLD_YUAN * 100:
            cents = int(cents * 1.12)
        return cents

    def lognormal_cents(self, median: float, sigma: float, lo: float, hi: float) -> int:
        v = float(np.clip(np.exp(self.rng.normal(np.log(median), sigma)), lo, hi))
        return int(round(v, -2 if v > 1e5 else 0)) * 100

    def build_lots(self) -> None:
        rng = self.rng
        L = max(4, round(20000 * self.scale * self.days / 365))
        wd = self.range_workdays
        n_con = round(L * 0.5)
        # construction: projects with 1-4 lots
        made = 0
        while made < n_con:
            k = int(rng.choice([1, 2, 3, 4], p=[0.65, 0.2, 0.1, 0.05]))
            first = int(rng.choice(wd))
            made += self.new_project_with_lots(first, k)
        cats = ("government_procurement", "land", "mining_rights", "state_assets", "other")
        counts = rng.multinomial(max(0, L - len(self.lots)), np.array([0.35, 0.05, 0.01, 0.04, 0.05]) / 0.5)
        for cat, n in zip(cats, counts, strict=True):
            for _ in range(int(n)):
                self.new_single_lot(cat, int(rng.choice(wd)))
        # extra approved projects that are not (yet) tendered: private filings, later phases
        for _ in range(max(2, round(0.3 * len(self.projects)))):
            p = self.pick_pref()
            ten = self.tenderers_by_pref[p][int(rng.integers(0, len(self.tenderers_by_pref[p])))]
            ind = fc.INDUSTRIES[int(rng.integers(0, 5))]
            day = int(self.cal.next_workday(self.s - int(rng.integers(0, 300)) + int(rng.integers(0, self.days))))
            self.new_project(ten, ind, day, self.lognormal_cents(3e6, 1.2, 2e5, 1e9))

    def new_project(self, owner: int, industry: str, approved_day: int, scope: int) -> Project:
        rng = self.rng
        ent = self.entities[owner]
        funding = str(rng.choice(["government", "state_owned", "mixed", "private"], p=[0.6, 0.25, 0.1, 0.05]))
        atype = {"government": "approval", "state_owned": "verification", "mixed": "verification"}.get(funding, "filing")
        year = to_date(approved_day).year
        code = self.project_code(year, ent.county, industry, atype)
        objs = PROJECT_OBJECTS[industry]
        name = f"{self.county_names[ent.county]}{year}年{objs[int(rng.integers(0, len(objs)))]}项目"
        dept = f"{SHORT_NAMES[ent.pref][:2]}发改" if rng.random() < 0.7 else "云发改"
        doc = f"{dept}{'备案' if atype == 'filing' else '投资'}〔{year}〕{int(rng.integers(1, 900))}号"
        pr = Project(code, name, owner, ent.county, sys.intern(industry), atype, sys.intern(funding), doc,
                     self.ts(approved_day))
        pr.budget = int(scope * rng.uniform(1.0, 1.08))
        pr.investment = int(scope * rng.uniform(1.15, 1.8))
        if rng.random() < 0.1:
            pr.v2_ts = self.ts(approved_day + int(rng.integers(30, 200)))
        self.projects.append(pr)
        return pr

    def new_project_with_lots(self, first_day: int, k: int, split: bool = False) -> int:
        rng = self.rng
        pref = self.pick_pref()
        ten = self.tenderers_by_pref[pref][int(rng.integers(0, len(self.tenderers_by_pref[pref])))]
        industry = str(rng.choice(fc.INDUSTRIES, p=[0.35, 0.25, 0.15, 0.08, 0.05, 0.04, 0.08]))
        if split:
            # each lot below the threshold, anywhere from 40 % of it: 3-4 lots always reach it together
            controls = [int(an.CONSTRUCTION_THRESHOLD_YUAN * rng.uniform(*an.SPLIT_SHARE)) * 100 for _ in range(k)]
            days = [first_day] + [int(self.cal.next_workday(first_day + int(rng.integers(0, 14)))) for _ in range(k - 1)]
        else:
            controls = [self.clean_control(self.lognormal_cents(3e6, 1.2, 1e5, 2e9)) for _ in range(k)]
            days = [first_day] + [int(self.cal.next_workday(first_day + int(rng.integers(0, 45)))) for _ in range(k - 1)]
        days = sorted(d for d in days if d <= self.e)
        pr = self.new_project(ten, industry, int(self.cal.prev_workday(first_day - int(rng.integers(30, 300)))), sum(controls))
        for j, d in enumerate(days):
            method = "competitive_negotiation" if split else ("invited" if rng.random() < 0.12 else "open")
            suffix = f"施工第{j + 1}标段" if len(days) > 1 else "施工"
            lot = self.new_lot("construction", industry, method, pref, ten, controls[j], d, pr.name + suffix, len(self.projects) - 1)
            lot.code = pr.code
            if split and lot.outcome != "awarded":
                lot.outcome, lot.n_bids, lot.cancel_ts = "awarded", max(lot.n_bids, 3), -1
            pr.lots += (lot.idx,)
        return len(days)

    def new_single_lot(self, cat: str, day: int) -> Lot:
        rng = self.rng
        pref = self.pick_pref()
        tens = self.tenderers_by_pref[pref]
        ten = tens[int(rng.integers(0, len(tens)))]
        county_name = self.county_names.get(self.entities[ten].county, SHORT_NAMES[pref])
        if cat == "government_procurement":
            method = str(rng.choice(["open", "competitive_consultation", "competitive_negotiation", "inquiry", "single_source"],
                                    p=[0.6, 0.15, 0.1, 0.1, 0.05]))
            obj = PROCUREMENT_OBJECTS[int(rng.integers(0, len(PROCUREMENT_OBJECTS)))]
            ind = "medical" if "医疗" in obj else "other"
            name = f"{self.entities[ten].name}{obj}项目"
            control = self.lognormal_cents(6e5, 1.1, 5e4, 2e8)
        elif cat == "other":
            method = str(rng.choice(["open", "competitive_negotiation"], p=[0.7, 0.3]))
            ind, name = "other", f"{self.entities[ten].name}咨询服务项目"
            control = self.lognormal_cents(3e5, 1.0, 3e4, 5e7)
        elif cat == "land":
            method, ind = str(rng.choice(["listing", "auction"], p=[0.8, 0.2])), "natural_resources"
            name = f"{county_name}{to_date(day).year}-{int(rng.integers(1, 99)):02d}号地块国有建设用地使用权出让"
            control = self.lognormal_cents(2e7, 1.0, 1e6, 5e9)
        elif cat == "mining_rights":
            method, ind = "listing", "natural_resources"
            name = f"{county_name}建筑用砂石矿采矿权出让"
            control = self.lognormal_cents(8e6, 1.0, 5e5, 1e9)
        else:  # state_assets
            method, ind = str(rng.choice(["listing", "auction"], p=[0.7, 0.3])), "other"
            name = f"{self.entities[ten].name}闲置资产公开转让"
            control = self.lognormal_cents(5e5, 1.0, 2e4, 1e8)
        return self.new_lot(cat, ind, method, pref, ten, control, day, name)
