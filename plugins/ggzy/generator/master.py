"""Master data: the province's tenderers, agencies, bidders and experts, and the helpers that
draw people, companies, addresses and distinct identifiers (phones, MACs, certificates).

Volumes scale with `scale` but not with the number of days: the market is the province's.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ggzy.feeds import contract as fc
from ggzy.generator import identity as ident
from ggzy.generator.calendar import DAY
from ggzy.generator.model import Entity, Expert, stream
from ggzy.generator.regions import COUNTIES, PREFECTURES, SHORT_NAMES

BUREAUS = (("住房和城乡建设局", "11"), ("交通运输局", "11"), ("水务局", "11"), ("农业农村局", "11"),
           ("自然资源局", "11"), ("卫生健康局", "11"), ("教育体育局", "11"), ("第一中学", "12"),
           ("人民医院", "12"), ("中医医院", "12"))
SOES = ("城市建设投资集团有限公司", "交通投资建设有限公司", "水务产业投资有限公司", "国有资本投资运营有限公司")
CONSTRUCTION_SPECIALTIES = ("房屋建筑工程", "市政公用工程", "公路工程", "水利水电工程", "工程造价", "电气工程", "园林绿化工程")
PROCUREMENT_SPECIALTIES = ("医疗设备", "信息技术", "办公设备", "物业服务", "农业机械", "教学设备", "财务与法律")
AGENCY_TRADES = ("工程项目管理", "招标代理", "工程咨询", "建设项目管理")


class MasterData:
    """Mixin of World: who takes part in the market (drawn once, before any lot)."""

    def take(self, pool: str, n: int = 1) -> list[str]:
        """Distinct values from a named generator (phones, MACs, ...): never repeated in the world."""
        gen = {"phone": ident.phones, "mac": ident.macs, "ip": ident.ips, "bank": ident.bank_accounts,
               "hex32": lambda r, k: ident.hex_codes(r, k, 32), "hex20": lambda r, k: ident.hex_codes(r, k, 20)}[pool]
        if pool not in self._pools:
            self._pools[pool] = (stream(self.seed, "pool:" + pool), set(), [])
        rng, seen, buf = self._pools[pool]
        out: list[str] = []
        while len(out) < n:
            if not buf:
                buf.extend(reversed(gen(rng, 2048)))
            v = buf.pop()
            if v not in seen and self.owns(v):
                seen.add(v)
                out.append(v)
        return out

    def ts(self, day: int | np.integer, lo_h: float = 8.5, hi_h: float = 17.5) -> int:
        """A time of day within office hours, to the minute."""
        return self.shared_int(int(day) * DAY + int(self.rng.integers(int(lo_h * 60), int(hi_h * 60))) * 60)

    def shared_int(self, n: int) -> int:
        """One int object per value for the world's times and days (32 bytes each): a scale-16
        year draws ~4 million office-hour times, but there are only ~200k distinct minutes."""
        return self._ints.setdefault(n, n)

    def pick_pref(self) -> str:
        return PREFECTURES[int(self.rng.choice(len(PREFECTURES), p=self.pref_weights))]

    def pick_county(self, pref: str) -> str:
        cs = COUNTIES[pref]
        return cs[int(self.rng.integers(0, len(cs)))][0]

    def new_person(self, county: str | None = None) -> int:
        rng = self.rng
        if county is None:
            if rng.random() < 0.15:  # some people born outside Yunnan (Sichuan, Guizhou, Hunan)
                county = ("510104", "520102", "430102", "510722")[int(rng.integers(0, 4))]
            else:
                county = self.pick_county(self.pick_pref())
        birth = int(rng.integers(-3650, 9500))  # 1960 .. 1996
        name = ident.person_names(rng, 1)[0]
        pid = ident.id_numbers(rng, [county], np.array([birth]))[0]
        while pid in self._person_ids or not self.owns(pid):
            pid = ident.id_numbers(rng, [county], np.array([birth + int(rng.integers(1, 300))]))[0]
        self._person_ids.add(pid)
        self.persons.append((name, pid))
        return len(self.persons) - 1

    def address(self, county: str) -> str:
        pref = county[:4] + "00"
        road = ident.ROADS[int(self.rng.integers(0, len(ident.ROADS)))]
        return f"云南省{fc.YUNNAN_PREFECTURES[pref]}{self.county_names[county]}{road}{int(self.rng.integers(1, 800))}号"

    def new_entity(self, role: str, pref: str, name: str, uscc_kind: str = "91", group: int = -1,
                   established: int | None = None, kind: str = "regular", lr: int | None = None,
                   phone: str | None = None, county: str | None = None) -> int:
        rng = self.rng
        county = county or self.pick_county(pref)
        if established is None:
            established = self.s - int(rng.integers(400, 9000))
        uscc = ident.usccs(rng, [county], uscc_kind)[0]
        while uscc in self._usccs or not self.owns(uscc):
            uscc = ident.usccs(rng, [county], uscc_kind)[0]
        self._usccs.add(uscc)
        e = Entity(uscc=uscc, name=name, role=role, county=county, pref=pref, established=established,
                   group=group, kind=kind)
        e.lr = self.new_person() if lr is None else lr
        e.contact = self.new_person(county)
        e.phone = phone or self.take("phone")[0]
        e.address = self.address(county)
        e.capital = int(round(float(np.exp(rng.normal(np.log(2e7), 1.0))), -4)) * 100
        # first version: registration if recent, else some time in the year before the range
        snap_day = max(established + int(rng.integers(0, 30)), self.s - int(rng.integers(1, 365)))
        e.snap_ts = self.ts(snap_day)
        if role in ("bidder", "agency"):
            e.mac, e.fm, e.ca, e.bond = self.take("mac")[0], self.take("hex32")[0], self.take("hex20")[0], self.take("bank")[0]
            e.ips = tuple(self.take("ip", 2))
            e.employees = int(max(5, np.exp(rng.normal(np.log(60), 0.9))))
            e.revenue = int(np.exp(rng.normal(np.log(5e7), 1.1))) * 100
            e.rating = "ABMC"[int(rng.choice(4, p=[0.25, 0.5, 0.15, 0.10]))]
            for _ in range(int(rng.integers(1, 4))):
                e.shareholders.append(("P", "", 0.0))  # persons filled below
            shares = rng.dirichlet(np.ones(len(e.shareholders))) * 100
            e.shareholders = [(self.persons[p][1], self.persons[p][0], round(float(s), 2))
                              for p, s in zip([self.new_person() for _ in e.shareholders], shares, strict=True)]
            if group == 0:
                e.pms = [self.new_person() for _ in range(int(rng.integers(2, 6)))]
        if kind == "regular" and rng.random() < 0.08:
            e.update_ts = self.ts(int(rng.choice(self.range_workdays)))
        self.entities.append(e)
        return len(self.entities) - 1

    def build_master(self) -> None:
        """The market's participants, drawn in this order from the world's stream."""
        self._usccs: set[str] = set()
        self._person_ids: set[str] = set()
        self.company_names_taken: set[str] = set()
        self.build_tenderers()
        self.build_agencies()
        n_bidders = self.build_bidders()
        self.build_dormant_bidders(n_bidders)
        self.build_experts()

    def build_tenderers(self) -> None:
        """County bureaus, schools, hospitals and city investment companies; every prefecture has one.
        They are the province's own bodies, each of which exists once: a shard takes every
        `shards`-th of them (every prefecture has at least 34, so each shard has some in every
        prefecture up to 34 shards; past that a shard may make a branch company, below)."""
        combos = [(c, b, k) for p in PREFECTURES for c, _ in COUNTIES[p] for b, k in BUREAUS]
        combos += [(p, s, "91") for p in PREFECTURES for s in SOES]
        order = [i for i in self.rng.permutation(len(combos)).tolist() if i % self.shards == self.shard]
        n_tenderers = min(len(order), max(60, round(1500 * self.scale)))
        self.tenderers_by_pref: dict[str, list[int]] = defaultdict(list)
        for i in sorted(order[:n_tenderers]):
            code, what, kind = combos[i]
            if code in fc.YUNNAN_PREFECTURES:
                pref, name, county = code, SHORT_NAMES[code] + what, None
            else:
                pref, county = code[:4] + "00", code
                name = self.county_names[code] + what
            self.tenderers_by_pref[pref].append(self.new_entity("tenderer", pref, name, kind, county=county))
        for p in PREFECTURES:
            if not self.tenderers_by_pref[p]:
                # a shard with none of the prefecture's bodies: a branch of its investment company
                name = SHORT_NAMES[p] + SOES[0] + ("" if self.shards == 1 else f"第{self.shard + 1}分公司")
                self.tenderers_by_pref[p].append(self.new_entity("tenderer", p, name))

    def build_agencies(self) -> None:
        rng = self.rng
        self.agencies_by_pref: dict[str, list[int]] = defaultdict(list)
        for _ in range(max(16, round(300 * self.scale))):
            p = self.pick_pref()
            prefix = SHORT_NAMES[p] if rng.random() < 0.6 else "云南"
            name = ident.company_names(rng, [prefix], AGENCY_TRADES, self.company_names_taken, self.owns, self.shards)[0]
            self.agencies_by_pref[p].append(self.new_entity("agency", p, name))

    def build_bidders(self) -> int:
        """Construction companies (60 %), suppliers (32 %) and buyers of land and assets (8 %),
        each with a size weight (how often it bids); returns how many."""
        rng = self.rng
        n_bidders = max(150, round(3000 * self.scale))
        groups = rng.choice(3, size=n_bidders, p=[0.6, 0.32, 0.08])
        self.pool: dict[tuple[int, str], list[int]] = defaultdict(list)
        self.weight: dict[int, float] = {}
        for group in groups:
            p = self.pick_pref()
            prefix = "云南" if rng.random() < 0.3 else SHORT_NAMES[p]
            trades = (ident.CONSTRUCTION_TRADES, ident.SUPPLY_TRADES, ident.BUYER_TRADES)[int(group)]
            name = ident.company_names(rng, [prefix], trades, self.company_names_taken, self.owns, self.shards)[0]
            young = rng.random() < 0.05  # young but real companies: staff and tax, never shells
            established = self.s - (int(rng.integers(60, 330)) if young else int(rng.integers(400, 9000)))
            idx = self.new_entity("bidder", p, name, group=int(group), established=established)
            self.pool[(int(group), p)].append(idx)
            self.weight[idx] = float(np.exp(rng.normal(0, 0.7)))
        return n_bidders

    def build_dormant_bidders(self, n_bidders: int) -> None:
        """Bidders with bad tax standing that never bid (clean abnormal / D-rated taxpayers)."""
        rng = self.rng
        for _ in range(max(3, n_bidders // 50)):
            p = self.pick_pref()
            name = ident.company_names(rng, [SHORT_NAMES[p]], ident.CONSTRUCTION_TRADES, self.company_names_taken, self.owns, self.shards)[0]
            company = self.entities[self.new_entity("bidder", p, name, group=0, kind="dormant")]
            company.tax_status, company.rating = ("abnormal", "D") if rng.random() < 0.5 else ("normal", "D")

    def build_experts(self) -> None:
        """The expert pool: specialty group, prefecture, employer (a bidder, a tenderer or none),
        a personal scoring bias; a few retire within the range."""
        rng = self.rng
        n_experts = max(120, round(4000 * self.scale))
        bidders = [i for lst in self.pool.values() for i in lst]
        tenderers = [i for lst in self.tenderers_by_pref.values() for i in lst]
        self.expert_pool: dict[tuple[int, str], list[int]] = defaultdict(list)
        names = ident.person_names(rng, n_experts)
        for k in range(n_experts):
            group = int(rng.random() < 0.4)
            p = self.pick_pref()
            specialties = (CONSTRUCTION_SPECIALTIES, PROCUREMENT_SPECIALTIES)[group]
            u = rng.random()
            if u < 0.3:
                employer = bidders[int(rng.integers(0, len(bidders)))]
            elif u < 0.75:
                employer = tenderers[int(rng.integers(0, len(tenderers)))]
            else:
                employer = -1
            expert = Expert(f"ZJ{53000000 + self.serial(k) * 7 + int(rng.integers(0, 7)):08d}", names[k], employer,
                            specialties[int(rng.integers(0, len(specialties)))], group, p, float(rng.normal(0, 1.2)),
                            self.ts(self.s - int(rng.integers(1, 700))))
            if rng.random() < 0.03:
                expert.retire_ts = self.ts(int(rng.choice(self.range_workdays)))
            self.experts.append(expert)
            self.expert_pool[(group, p)].append(k)
            self.expert_pool[(group, "all")].append(k)
        self.expert_employer = np.array([x.employer for x in self.experts])

    def special_expert(self, group: int, pref: str, employer: int = -1) -> int:
        spec = (CONSTRUCTION_SPECIALTIES, PROCUREMENT_SPECIALTIES)[group]
        k = len(self.experts)
        self.experts.append(Expert(f"ZJ{59000000 + self.serial(k):08d}", ident.person_names(self.rng, 1)[0], employer,
                                   spec[int(self.rng.integers(0, len(spec)))], group, pref,
                                   float(self.rng.normal(0, 0.5)), self.ts(self.s - int(self.rng.integers(1, 400)))))
        self.expert_employer = np.append(self.expert_employer, employer)
        return k

    def special_bidder(self, kind: str, pref: str, group: int = 0, established: int | None = None,
                       lr: int | None = None, phone: str | None = None) -> int:
        trades = (ident.CONSTRUCTION_TRADES, ident.SUPPLY_TRADES, ident.BUYER_TRADES)[group]
        prefix = SHORT_NAMES[pref] if self.rng.random() < 0.7 else "云南"
        name = ident.company_names(self.rng, [prefix], trades, self.company_names_taken, self.owns, self.shards)[0]
        return self.new_entity("bidder", pref, name, group=group, established=established, kind=kind, lr=lr, phone=phone)
