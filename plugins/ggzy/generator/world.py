"""The simulated province: one coherent world for the whole date range, built once.

Why one world and not day-by-day generation: the rules the warehouse checks connect
records far apart in time and across feeds (an approval months before the tender, a
settlement a year after the award, a credit ban decided before a bid). So the generator
first lives through the whole range — projects approved → lots announced on working days
→ bids → evaluation → award → publicity → contract → construction milestones, complaints
and cases with their time limits, credit records, tax — and only then cuts it into daily
deltas (see writer.py). Each record version carries the day it happened; versions after
the last day have not happened yet and are not written.

Volumes follow the brief: scale 1 = a province-year of ~20k lots, ~150k bids, ~1M expert
scores; lots scale with scale × days/365, the master data (companies, experts) with scale.
Injected anomalies are defined in anomalies.py. Everything is drawn from numpy generators
seeded by (seed, stream name), so the same inputs give the same world.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from ggzy.feeds import contract as fc
from ggzy.generator import anomalies as an
from ggzy.generator import identity as ident
from ggzy.generator.calendar import DAY, WorkCalendar, to_date
from ggzy.generator.regions import ACTIVITY, COUNTIES, PREFECTURES, SHORT_NAMES, supervising_suffix

NA = np.iinfo(np.int64).min  # null for integer-coded columns (timestamps, dates, cents)
HOUR = 3600

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
BUREAUS = (("住房和城乡建设局", "11"), ("交通运输局", "11"), ("水务局", "11"), ("农业农村局", "11"),
           ("自然资源局", "11"), ("卫生健康局", "11"), ("教育体育局", "11"), ("第一中学", "12"),
           ("人民医院", "12"), ("中医医院", "12"))
SOES = ("城市建设投资集团有限公司", "交通投资建设有限公司", "水务产业投资有限公司", "国有资本投资运营有限公司")
CONSTRUCTION_SPECIALTIES = ("房屋建筑工程", "市政公用工程", "公路工程", "水利水电工程", "工程造价", "电气工程", "园林绿化工程")
PROCUREMENT_SPECIALTIES = ("医疗设备", "信息技术", "办公设备", "物业服务", "农业机械", "教学设备", "财务与法律")
REJECT_REASONS = ("未按招标文件要求提交投标保证金", "投标文件未按规定签字盖章", "项目经理资格不符合招标文件要求")
PENALTIES = {"bidder": ("罚款{m}元，取消中标资格", "罚款{m}元，一年内禁止参加依法必须进行招标的项目投标"),
             "agency": ("罚款{m}元，暂停代理业务六个月",), "tenderer": ("责令改正，罚款{m}元",),
             "expert": ("取消评标专家资格", "警告，暂停评标资格一年")}


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per component, so components don't shift each other."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


@dataclass(slots=True)
class Entity:
    uscc: str
    name: str
    role: str
    county: str
    pref: str
    established: int
    group: int = -1  # bidders: 0 construction, 1 supplier, 2 buyer (land/assets)
    kind: str = "regular"
    lr: int = -1  # legal representative (person index)
    contact: int = -1
    phone: str = ""
    address: str = ""
    capital: int = 0  # cents
    snap_ts: int = 0
    shareholders: list[tuple[str, str, float]] = field(default_factory=list)  # (linked_id, name, pct)
    pms: list[int] = field(default_factory=list)
    mac: str = ""
    fm: str = ""
    ca: str = ""
    bond: str = ""
    ips: tuple[str, ...] = ()
    tax_status: str = "normal"
    rating: str = "B"
    employees: int = 10
    revenue: int = 0  # cents
    update_ts: int = -1  # a later version (address/capital change), -1 none


@dataclass(slots=True)
class Expert:
    expert_id: str
    name: str
    employer: int
    specialty: str
    group: int
    pref: str
    bias: float
    snap_ts: int
    retire_ts: int = -1


@dataclass(slots=True)
class Project:
    code: str
    name: str
    owner: int
    county: str
    industry: str
    approval_type: str
    funding: str
    doc_no: str
    approved_ts: int
    lots: list[int] = field(default_factory=list)
    investment: int = 0
    budget: int = 0
    v2_ts: int = -1


@dataclass(slots=True)
class Lot:
    idx: int
    tender_id: str
    category: str
    industry: str
    method: str
    county: str
    pref: str
    tenderer: int
    agency: int
    control: int  # cents, -1 = none (auction/listing: reserve kept in `reserve`)
    reserve: int
    announced: int
    deadline: int
    eval_method: str | None
    separated: bool
    remote: bool
    host: str
    guests: tuple[str, ...]
    outcome: str  # awarded | failed | cancelled
    n_bids: int
    name: str = ""
    project: int = -1
    code: str | None = None  # delivered project_code
    cancel_ts: int = -1
    eval_day: int = 0
    award_day: int = 0
    anomaly: str = ""
    detail: str = ""
    ring: int = -1
    ring_winner: int = -1  # entity
    extra: list[int] = field(default_factory=list)  # extra bidder entities
    forced: int = -1  # entity that wins
    fav: tuple[int, int] = (-1, -1)  # (expert, entity)
    aff: tuple[int, int] = (-1, -1)  # (expert, entity)
    # outcomes of the simulation
    b0: int = 0
    b1: int = 0
    winner: int = -1  # global bid index
    award_ts: int = -1
    award_price: int = -1
    pub_start: int = -1
    pub_end: int = -1
    contract_ts: int = -1
    contract_amount: int = -1
    panel: list[tuple[int, str]] = field(default_factory=list)  # (expert, site)

    @property
    def opened_day(self) -> int:
        return self.deadline // DAY

    @property
    def evaluated(self) -> bool:
        return self.eval_method is not None


class Rows:
    """Column-wise accumulator for one contract file: values per row plus the batch day."""

    def __init__(self, file: fc.FeedFile) -> None:
        self.file = file
        self.cols: dict[str, list] = {c: [] for c in file.column_names}
        self.day: list[int] = []

    def add(self, ts: int, **values: object) -> None:
        """ts: when this version happened (local seconds); it decides the batch."""
        self.day.append(ts // DAY)
        for c, lst in self.cols.items():
            lst.append(values.get(c))


@dataclass
class Table:
    """One contract file's rows for the whole range: typed columns + batch day per row."""

    file: fc.FeedFile
    cols: dict[str, np.ndarray]
    day: np.ndarray


INT_KINDS = (fc.TIMESTAMP, fc.DATE, fc.MONEY, fc.INTEGER)


def to_table(rows: Rows, first_day: int) -> Table:
    cols: dict[str, np.ndarray] = {}
    for c in rows.file.columns:
        vals = rows.cols[c.name]
        if c.kind in INT_KINDS:
            cols[c.name] = np.array([NA if v is None else v for v in vals], dtype=np.int64)
        elif c.kind == fc.NUMBER:
            cols[c.name] = np.array([np.nan if v is None else v for v in vals], dtype=np.float64)
        elif c.kind == fc.BOOL:
            cols[c.name] = np.array([-1 if v is None else int(v) for v in vals], dtype=np.int8)
        else:
            arr = np.empty(len(vals), dtype=object)
            arr[:] = vals
            cols[c.name] = arr
    day = np.maximum(np.array(rows.day, dtype=np.int64), first_day)  # history before the range: first batch
    return Table(rows.file, cols, day)


class World:
    def __init__(self, start_day: int, end_day: int, scale: float, seed: int, anomaly_rate: float) -> None:
        self.s, self.e = start_day, end_day
        self.scale, self.seed, self.anomaly_rate = scale, seed, anomaly_rate
        self.days = end_day - start_day + 1
        self.cal = WorkCalendar(start_day - 800, end_day + 1600)
        self.range_workdays = self.cal.workdays[(self.cal.workdays >= self.s) & (self.cal.workdays <= self.e)]
        self.rng = stream(seed, "world")
        self.entities: list[Entity] = []
        self.persons: list[tuple[str, str]] = []  # (name, id_no)
        self.experts: list[Expert] = []
        self.projects: list[Project] = []
        self.lots: list[Lot] = []
        self.truth: list[tuple[str, str, str, str]] = []
        # subjects made to look like an anomaly without being one: a correct rule stays quiet
        self.near_misses: list[tuple[str, str, str, str]] = []
        # (item_type, item_id, role, delivered code, department code it stands for)
        self.department_codes: list[tuple[str, str, str, str, str]] = []
        self.credit: list[dict] = []
        self.complaints: list[dict] = []
        self.cases: list[dict] = []
        self.milestones: list[tuple] = []
        self._pools: dict[str, tuple[np.random.Generator, set[str], list[str]]] = {}
        self._serials: dict[tuple[int, str], int] = defaultdict(int)
        self.pref_weights = np.array([ACTIVITY[p] for p in PREFECTURES])
        self.pref_weights /= self.pref_weights.sum()
        self.county_names = {c: n for cs in COUNTIES.values() for c, n in cs}

    # ------------------------------------------------------------------ helpers
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
            if v not in seen:
                seen.add(v)
                out.append(v)
        return out

    def ts(self, day: int | np.integer, lo_h: float = 8.5, hi_h: float = 17.5) -> int:
        """A time of day within office hours, to the minute."""
        return int(day) * DAY + int(self.rng.integers(int(lo_h * 60), int(hi_h * 60))) * 60

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
        while pid in self._person_ids:
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
        while uscc in self._usccs:
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

    def project_code(self, year: int, county: str, industry: str, approval_type: str) -> str:
        self._serials[(year, county)] += 1
        return f"{year}-{county}-{INDUSTRY_CODE[industry]}-{APPROVAL_TT[approval_type]}-{self._serials[(year, county)]:06d}"

    def add_truth(self, rule: str, subject_type: str, subject_id: str, detail: str) -> None:
        self.truth.append((rule, subject_type, subject_id, detail))

    # ------------------------------------------------------------------ master data
    def build_master(self) -> None:
        self._usccs: set[str] = set()
        self._person_ids: set[str] = set()
        rng, scale = self.rng, self.scale
        taken: set[str] = set()
        # tenderers: county bureaus, schools, hospitals, city investment companies
        combos = [(c, b, k) for p in PREFECTURES for c, _ in COUNTIES[p] for b, k in BUREAUS]
        combos += [(p, s, "91") for p in PREFECTURES for s in SOES]
        order = rng.permutation(len(combos))
        n_ten = min(len(combos), max(60, round(1500 * scale)))
        # keep every prefecture represented
        chosen = sorted(order[:n_ten].tolist())
        self.tenderers_by_pref: dict[str, list[int]] = defaultdict(list)
        for i in chosen:
            code, what, kind = combos[i]
            if code in fc.YUNNAN_PREFECTURES:
                pref, name = code, SHORT_NAMES[code] + what
                county = None
            else:
                pref, county = code[:4] + "00", code
                name = self.county_names[code] + what
            idx = self.new_entity("tenderer", pref, name, kind, county=county)
            self.tenderers_by_pref[pref].append(idx)
        for p in PREFECTURES:
            if not self.tenderers_by_pref[p]:
                self.tenderers_by_pref[p].append(self.new_entity("tenderer", p, SHORT_NAMES[p] + SOES[0]))
        # agencies
        self.agencies_by_pref: dict[str, list[int]] = defaultdict(list)
        for _ in range(max(16, round(300 * scale))):
            p = self.pick_pref()
            prefix = SHORT_NAMES[p] if rng.random() < 0.6 else "云南"
            name = ident.company_names(rng, [prefix], ("工程项目管理", "招标代理", "工程咨询", "建设项目管理"), taken)[0]
            self.agencies_by_pref[p].append(self.new_entity("agency", p, name))
        # bidders
        n_bid = max(150, round(3000 * scale))
        groups = rng.choice(3, size=n_bid, p=[0.6, 0.32, 0.08])
        self.pool: dict[tuple[int, str], list[int]] = defaultdict(list)
        self.weight: dict[int, float] = {}
        for g in groups:
            p = self.pick_pref()
            prefix = "云南" if rng.random() < 0.3 else SHORT_NAMES[p]
            trades = (ident.CONSTRUCTION_TRADES, ident.SUPPLY_TRADES, ident.BUYER_TRADES)[int(g)]
            name = ident.company_names(rng, [prefix], trades, taken)[0]
            young = rng.random() < 0.05  # young but real companies: staff and tax, never shells
            est = self.s - (int(rng.integers(60, 330)) if young else int(rng.integers(400, 9000)))
            idx = self.new_entity("bidder", p, name, group=int(g), established=est)
            self.pool[(int(g), p)].append(idx)
            self.weight[idx] = float(np.exp(rng.normal(0, 0.7)))
        self.company_names_taken = taken
        # dormant bidders with bad tax standing: they never bid (clean abnormal/D taxpayers)
        for _ in range(max(3, n_bid // 50)):
            p = self.pick_pref()
            name = ident.company_names(rng, [SHORT_NAMES[p]], ident.CONSTRUCTION_TRADES, taken)[0]
            i = self.new_entity("bidder", p, name, group=0, kind="dormant")
            e = self.entities[i]
            e.tax_status, e.rating = ("abnormal", "D") if rng.random() < 0.5 else ("normal", "D")
        # experts
        n_exp = max(120, round(4000 * scale))
        bidders = [i for lst in self.pool.values() for i in lst]
        tenderers = [i for lst in self.tenderers_by_pref.values() for i in lst]
        self.expert_pool: dict[tuple[int, str], list[int]] = defaultdict(list)
        names = ident.person_names(rng, n_exp)
        for k in range(n_exp):
            g = int(rng.random() < 0.4)
            p = self.pick_pref()
            spec = (CONSTRUCTION_SPECIALTIES, PROCUREMENT_SPECIALTIES)[g]
            u = rng.random()
            if u < 0.3:
                emp = bidders[int(rng.integers(0, len(bidders)))]
            elif u < 0.75:
                emp = tenderers[int(rng.integers(0, len(tenderers)))]
            else:
                emp = -1
            ex = Expert(f"ZJ{53000000 + k * 7 + int(rng.integers(0, 7)):08d}", names[k], emp,
                        spec[int(rng.integers(0, len(spec)))], g, p, float(rng.normal(0, 1.2)),
                        self.ts(self.s - int(rng.integers(1, 700))))
            if rng.random() < 0.03:
                ex.retire_ts = self.ts(int(rng.choice(self.range_workdays)))
            self.experts.append(ex)
            self.expert_pool[(g, p)].append(k)
            self.expert_pool[(g, "all")].append(k)
        self.expert_employer = np.array([x.employer for x in self.experts])

    def special_expert(self, group: int, pref: str, employer: int = -1) -> int:
        spec = (CONSTRUCTION_SPECIALTIES, PROCUREMENT_SPECIALTIES)[group]
        k = len(self.experts)
        self.experts.append(Expert(f"ZJ{59000000 + k:08d}", ident.person_names(self.rng, 1)[0], employer,
                                   spec[int(self.rng.integers(0, len(spec)))], group, pref,
                                   float(self.rng.normal(0, 0.5)), self.ts(self.s - int(self.rng.integers(1, 400)))))
        self.expert_employer = np.append(self.expert_employer, employer)
        return k

    def special_bidder(self, kind: str, pref: str, group: int = 0, established: int | None = None,
                       lr: int | None = None, phone: str | None = None) -> int:
        trades = (ident.CONSTRUCTION_TRADES, ident.SUPPLY_TRADES, ident.BUYER_TRADES)[group]
        prefix = SHORT_NAMES[pref] if self.rng.random() < 0.7 else "云南"
        name = ident.company_names(self.rng, [prefix], trades, self.company_names_taken)[0]
        return self.new_entity("bidder", pref, name, group=group, established=established, kind=kind, lr=lr, phone=phone)

    # ------------------------------------------------------------------ lots
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
        lot.deadline = d * DAY + (9 * 60 + 30 + 30 * int(rng.integers(0, 2)) + 300 * int(rng.integers(0, 2))) * 60
        big = lot.control >= an.CONSTRUCTION_THRESHOLD_YUAN * 100
        lot.eval_day = int(self.cal.add_workdays(d, 1)) if (lot.evaluated and big) else d
        if lot.evaluated:
            lot.award_day = int(self.cal.add_workdays(lot.eval_day, int(rng.integers(4, 8))))
        else:
            lot.award_day = int(self.cal.add_workdays(d, int(rng.integers(0, 3))))

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
            guests = tuple(sorted(rng.choice(others, size=int(rng.integers(1, 3)), replace=False).tolist()))
        year = to_date(announce_day).year
        serial = len(self.lots)
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
        pr = Project(code, name, owner, ent.county, industry, atype, funding, doc, self.ts(approved_day))
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
            pr.lots.append(lot.idx)
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

    # ------------------------------------------------------------------ anomaly plan
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
        rng, e = self.rng, self.e
        lots = self.lots
        awarded = [x for x in lots if x.outcome == "awarded" and x.award_day <= e]
        multi = [x for x in awarded if x.evaluated and x.method != "single_source" and x.n_bids >= 3]
        opened = [x for x in lots if x.outcome == "awarded" and x.opened_day <= e and x.n_bids >= 3 and x.evaluated
                  and x.method != "single_source"]
        con = [x for x in multi if x.category == "construction" and x.code and x.method != "competitive_negotiation"]

        # bid-rigging rings first: they take whole lots
        n_rings = max(3, round(an.RINGS_PER_SCALE * self.scale)) if self.anomaly_rate > 0 else 0
        ring_cands = [x for x in opened if x.category == "construction" and x.method == "open"]
        by_pref: dict[str, list[Lot]] = defaultdict(list)
        for x in ring_cands:
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

        for x in self.pick("cl_no_approval", [x for x in con]):
            pr = self.projects[x.project]
            if len(pr.lots) == 1 and rng.random() < 0.5:
                late = int(self.cal.next_workday(x.announced // DAY + int(rng.integers(5, 40))))
                if late <= e:
                    pr.approved_ts = self.ts(late)
                    pr.v2_ts = -1
                    x.detail = f"approved_after_announcement: project {pr.code} approved {to_date(late)}"
                    continue
            x.code = None
            x.detail = "no_code: construction lot tendered without a project code"
        for x in self.pick("cl_broken_link", con):
            code = x.code or ""
            v = int(rng.integers(0, 3))
            if v == 0 and "0" in code[5:11]:
                x.code = code[:5] + code[5:11].replace("0", "O", 1) + code[11:]
            elif v <= 1:
                x.code = code[:-7] + code[-5:]  # serial segment too short
            else:
                x.code = f"{code[:-6]}{900000 + int(rng.integers(0, 99999)):06d}"  # well-formed, unknown
            x.detail = f"project code {x.code!r} does not link (true project {code})"
        comp = [x for x in multi if x.eval_method == "comprehensive"]
        for rule in ("cl_award_above_control", "pf_award_near_control"):
            for x in self.pick(rule, comp):
                x.forced = -2  # a regular bidder of the lot, chosen when bids are drawn
        with_contract = [x for x in multi if x.award_day + 30 <= e]
        self.pick("cl_contract_deviation", with_contract)
        self.pick("cl_start_before_award", [x for x in con if x.award_day - 6 >= self.s])
        self.pick("cl_settlement_overrun", [x for x in con if x.award_day + 150 <= e])
        self.pick("cl_stage_overdue", [x for x in multi if x.award_day + 35 <= e])
        # 中标候选人公示 (实施条例第54条) concerns tendered lots (open or invited) with an evaluation report
        self.pick("tl_publicity_late", [x for x in multi if x.method in an.TENDER_METHODS
                                        and int(self.cal.add_workdays(x.award_day, 20)) <= e])
        for rule in ("a40_same_file_maker", "a40_same_ca_cert", "a40_same_ip", "a40_same_mac",
                     "a40_same_bond_account", "a40_identical_price"):
            self.pick(rule, opened)
        self.pick("a40_same_project_manager", [x for x in opened if x.category == "construction"])
        for x in self.pick("a40_price_progression", opened):
            x.n_bids = int(rng.integers(4, 7))
        for rule in ("a34_shared_legal_rep", "a34_controlling_shareholder", "a34_shared_phone"):
            self.pick(rule, opened)
        for x in self.pick("pf_single_bid", [x for x in awarded if x.evaluated and x.method != "single_source"]):
            x.n_bids = 1
        for x in self.pick("pf_all_but_winner_rejected", multi):
            x.n_bids = max(3, x.n_bids)
        for x in self.pick("pf_lowest_rejected", [x for x in multi if x.eval_method == "lowest_price"]):
            x.n_bids = max(4, x.n_bids)
        open_con = [x for x in lots if x.category == "construction" and x.method == "open" and x.outcome != "cancelled"
                    and x.code]
        for x in self.pick("pf_short_bid_period", open_con):
            self.lot_dates(x, x.announced // DAY, short=True)
            x.detail = f"bid period {(x.deadline - x.announced) / DAY:.1f} days (legal minimum 20)"
        for x in self.pick("pf_late_winning_bid", multi):
            x.forced = -2
        # split lots: new groups of lots (they join the normal lifecycle)
        if self.anomaly_rate > 0:
            groups = max(1, round(an.RATES["pf_split_lots"] * len(lots) * self.anomaly_rate / 3))
            for _ in range(groups):
                first = int(rng.choice(self.range_workdays[: max(1, len(self.range_workdays) - 10)]))
                n0 = len(self.lots)
                self.new_project_with_lots(first, int(rng.integers(3, 5)), split=True)
                group = self.lots[n0:]
                tids = ",".join(x.tender_id for x in group)
                for x in group:
                    x.anomaly, x.detail = "pf_split_lots", f"tenderer {self.entities[x.tenderer].uscc} lots {tids}"
        # credit / tax / shells: special companies join the lot and (mostly) win
        for x in self.pick("cr_banned_bidder", opened):
            x.detail = "win" if rng.random() < 0.5 else "bid"
        self.pick("cr_tax_abnormal_winner", multi)
        self.pick("cr_shell_winner", [x for x in multi if x.award_day + 30 <= e])
        self.pick("ex_employed_by_bidder", [x for x in opened])
        # favouritism and affinity: (expert, company) pairs over several lots
        # statistical expert rules need repetition: at least one pair over several lots
        fav_lots = self.pick("ex_favouritism", [x for x in opened if x.category == "construction"
                                                and x.eval_method == "comprehensive"],
                             max(3, self.count("ex_favouritism")))
        self.assign_pairs(fav_lots, "fav")
        aff_lots = self.pick("ex_winner_affinity", [x for x in multi if x.category == "construction"],
                             max(8, self.count("ex_winner_affinity")))
        self.assign_pairs(aff_lots, "aff")

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

    # ------------------------------------------------------------------ credit specials (clean)
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
                after[i].extra.append(ent)

    # ------------------------------------------------------------------ bids, panels, scores
    def draw_bidders(self, group: int, pref: str, n: int) -> list[int]:
        rng = self.rng
        local = self.pool.get((group, pref), [])
        k_loc = min(len(local), int(rng.binomial(n, 0.7)))
        out: list[int] = []
        if k_loc:
            # weighted draw without replacement by exponential keys: O(k log n), not a full permutation
            cum = self._cum_weight[(group, pref)]
            picks = np.searchsorted(cum, rng.random(4 * k_loc + 8) * cum[-1], side="right")
            out = [local[i] for i in dict.fromkeys(np.minimum(picks, len(local) - 1).tolist())][:k_loc]
        if len(out) < n:
            allg = self._group_all[group]
            taken = set(out)
            cand = [allg[i] for i in rng.integers(0, len(allg), size=3 * n + 8)]
            out += [c for c in dict.fromkeys(cand) if c not in taken][: n - len(out)]
        return out

    def simulate(self) -> None:
        self._group_all = {g: sorted(i for (gg, _), v in self.pool.items() if gg == g for i in v) for g in (0, 1, 2)}
        self._cum_weight = {k: np.cumsum([self.weight[i] for i in v]) for k, v in self.pool.items() if v}
        self.emp_experts: dict[int, list[int]] = defaultdict(list)
        for k, x in enumerate(self.experts):
            if x.employer >= 0:
                self.emp_experts[x.employer].append(k)
        self.bid_cols: dict[str, list] = defaultdict(list)
        self.ev_parts: list[tuple] = []
        for lot in sorted(self.lots, key=lambda x: (x.announced, x.idx)):
            if lot.outcome == "cancelled" or lot.opened_day > self.e or lot.n_bids == 0:
                lot.b0 = lot.b1 = len(self.bid_cols["lot"])
                continue
            self.simulate_lot(lot)

    def simulate_lot(self, lot: Lot) -> None:
        rng, ents = self.rng, self.entities
        group = 0 if lot.category == "construction" else (2 if lot.control < 0 else 1)
        auction = lot.control < 0
        if lot.ring >= 0:
            bidders = list(self.rings[lot.ring])
            rng.shuffle(bidders)
        else:
            bidders = self.draw_bidders(group, lot.pref, lot.n_bids)
        if not bidders:
            lot.outcome = "failed"
            lot.b0 = lot.b1 = len(self.bid_cols["lot"])
            return
        a = lot.anomaly
        for who in (lot.fav[1], lot.aff[1]):
            if who >= 0 and who not in bidders:
                bidders[-1] = who
        if a.startswith("a34_"):
            x = ents[bidders[0]]
            if a == "a34_shared_legal_rep":
                y = self.special_bidder("sister", lot.pref, group, lr=x.lr)
                lot.detail = f"{x.uscc} and {ents[y].uscc} share legal representative {self.persons[x.lr][0]}"
            elif a == "a34_shared_phone":
                y = self.special_bidder("sister", lot.pref, group, phone=x.phone)
                lot.detail = f"{x.uscc} and {ents[y].uscc} share contact phone"
            else:
                y = self.special_bidder("subsidiary", lot.pref, group)
                pct = round(float(rng.uniform(51, 100)), 2)
                rest = [(sh[0], sh[1], round(100 - pct, 2)) for sh in ents[y].shareholders[:1]] if pct < 100 else []
                ents[y].shareholders = [(x.uscc, x.name, pct)] + rest
                lot.detail = f"{x.uscc} holds {pct}% of {ents[y].uscc}"
            bidders.append(y)
        if a in ("cr_banned_bidder", "cr_tax_abnormal_winner", "cr_shell_winner"):
            est = None
            if a == "cr_shell_winner":
                est = lot.award_day - int(rng.integers(60, 300))
            kind = {"cr_banned_bidder": "banned", "cr_tax_abnormal_winner": "tax_abnormal", "cr_shell_winner": "shell"}[a]
            y = self.special_bidder(kind, lot.pref, group, established=est)
            bidders.append(y)
            if a != "cr_banned_bidder" or lot.detail == "win":
                lot.forced = y
            if a == "cr_banned_bidder":
                decided = lot.announced // DAY - int(rng.integers(20, 200))
                self.banned.append((y, decided))
                lot.detail = f"{ents[y].uscc} bid during its bid ban" + (" and won" if lot.forced == y else "")
            elif a == "cr_shell_winner":
                ents[y].employees, ents[y].rating = 0, "M"
                lot.detail = f"winner {ents[y].uscc} established {to_date(est)}, no insured staff"
            else:
                e = ents[y]
                e.tax_status, e.rating = ("abnormal", e.rating) if rng.random() < 0.6 else ("normal", "D")
                lot.detail = f"winner {e.uscc} taxpayer_status={e.tax_status} rating={e.rating}"
        for y in lot.extra:
            if y not in bidders:
                bidders.append(y)
        m = len(bidders)
        if lot.forced == -2:
            lot.forced = bidders[int(rng.integers(0, m))]
        fpos = bidders.index(lot.forced) if lot.forced in bidders else -1
        ctrl = lot.control
        # --- prices (cents)
        if auction:
            prem = np.sort(rng.uniform(0.0, 0.3, m))
            price = [int(round(lot.reserve * (1 + p) / 100, -3)) * 100 for p in prem]
            rng.shuffle(price)
        elif m == 1 and lot.method == "single_source":
            price = [int(round(ctrl * rng.uniform(0.9, 0.98) / 100)) * 100]
        elif lot.ring >= 0:
            w = ctrl * (1 - rng.uniform(0.05, 0.10))
            covers = iter(np.sort(w * (1 + rng.uniform(0.004, 0.02, m - 1))))
            price = [int(round(w)) if b == lot.ring_winner else int(round(next(covers))) for b in bidders]
        elif a == "a40_price_progression":
            step = int(round(ctrl * rng.uniform(0.004, 0.01) / 100)) * 100
            top = int(round(ctrl * rng.uniform(0.93, 0.985) / 100)) * 100
            price = [top - k * step for k in range(m)]
            rng.shuffle(price)
            lot.detail = f"{m} bids in steps of {step / 100:.2f} yuan"
        else:
            mu = rng.uniform(0.03, 0.10)
            d = mu + rng.normal(0, 0.03, m)
            # redraw (not clip) outside the clean band: a clip would pile bids on the bound (a tight, regular cluster)
            low = 1 - an.CLEAN_MAX_DISCOUNT_SHARE
            d = np.where(d < low, low + rng.uniform(0.002, 0.04, m), np.where(d > 0.25, rng.uniform(0.15, 0.25, m), d))
            raw = ctrl * (1 - d)
            whole = rng.random(m) < 0.5
            price = [int(round(v / 100)) * 100 if wh else int(round(v)) for v, wh in zip(raw, whole, strict=True)]
        valid = [True] * m
        reason: list[str | None] = [None] * m
        evaluated = lot.evaluated and lot.outcome == "awarded"
        lowest_rule = lot.eval_method == "lowest_price"
        if fpos >= 0 and not auction:
            if a == "cl_award_above_control":
                price[fpos] = int(round(ctrl * rng.uniform(1.01, 1.06)))
                lot.detail = f"award {price[fpos] / ctrl:.3f} x control"
            elif a == "pf_award_near_control":
                price[fpos] = int(round(ctrl * rng.uniform(0.991, 0.999)))
                lot.detail = f"award {price[fpos] / ctrl:.4f} x control"
            elif lowest_rule or a in ("cr_tax_abnormal_winner", "cr_shell_winner", "cr_banned_bidder"):
                others = [p for i, p in enumerate(price) if i != fpos]
                if others and price[fpos] >= min(others):
                    price[fpos] = int(round(min(others) * rng.uniform(0.97, 0.995)))
        # distinct prices within the lot (exact ties are a collusion signal)
        seen: set[int] = set()
        for i in range(m):
            while price[i] in seen:
                price[i] += 100 * int(rng.integers(1, 20))
            seen.add(price[i])
        # nor a regular progression by chance (auction increments, round numbers)
        if a != "a40_price_progression" and m >= 3:
            srt = sorted(range(m), key=lambda i: price[i])
            steps = {price[srt[k + 1]] - price[srt[k]] for k in range(m - 1)}
            if len(steps) == 1:
                j = next(i for i in reversed(srt) if i != fpos)
                price[j] += 100 * int(rng.integers(3, 50))
                while price[j] in {p for i, p in enumerate(price) if i != j}:
                    price[j] += 100
        if a == "a40_identical_price" and m >= 2:
            i, j = (int(v) for v in rng.choice(m, size=2, replace=False))
            if fpos == j:
                i, j = j, i
            price[j] = price[i]
            lot.detail = f"{ents[bidders[i]].uscc} and {ents[bidders[j]].uscc} both bid {price[i] / 100:.2f}"
        # --- validity
        if evaluated and m >= 2:
            order = sorted(range(m), key=lambda i: price[i])
            if a == "pf_all_but_winner_rejected":
                for i in order[1:]:
                    valid[i], reason[i] = False, REJECT_REASONS[int(rng.integers(0, 3))]
                lot.forced = bidders[order[0]]
                fpos = order[0]
                lot.detail = f"{m - 1} of {m} bids rejected; winner {ents[bidders[fpos]].uscc}"
            elif a == "pf_lowest_rejected":
                valid[order[0]], reason[order[0]] = False, "投标报价低于成本且不能合理说明"
                lot.detail = f"lowest bid {ents[bidders[order[0]]].uscc} rejected"
            elif not a and lot.ring < 0 and m >= 4 and not lot.extra:
                for i in order[1:]:
                    if i == fpos or sum(valid) <= 3:
                        continue
                    u = rng.random()
                    if u < 0.03:
                        price[i] = int(round(ctrl * rng.uniform(1.001, 1.05)))
                        valid[i], reason[i] = False, "投标报价超过最高投标限价"
                    elif u < 0.05:
                        valid[i], reason[i] = False, REJECT_REASONS[int(rng.integers(0, 3))]
                # the lowest remaining bid must stay valid: rejections are never the lowest
                low = min(range(m), key=lambda i: price[i])
                if not valid[low]:
                    valid[low], reason[low] = True, None
        # --- times and bid attributes
        dl, ann = lot.deadline, lot.announced
        span = max(1200, min(5 * DAY, dl - ann - DAY))
        sub = [dl - int(rng.integers(600, span)) for _ in range(m)]
        if a == "pf_late_winning_bid" and fpos >= 0:
            sub[fpos] = dl + int(rng.integers(5, 91)) * 60
            lot.detail = f"winning bid {ents[bidders[fpos]].uscc} submitted {(sub[fpos] - dl) // 60} min after the deadline"
        bond_ts = [max(ann + HOUR, s - int(rng.integers(HOUR, 3 * DAY))) for s in sub]
        ip = [ents[b].ips[int(rng.integers(0, 2))] for b in bidders]
        mac = [ents[b].mac for b in bidders]
        fm = [ents[b].fm for b in bidders]
        ca = [ents[b].ca for b in bidders]
        bond = [ents[b].bond for b in bidders]
        pm = [self.persons[ents[b].pms[int(rng.integers(0, len(ents[b].pms)))]][1] if (group == 0 and ents[b].pms) else None
              for b in bidders]
        copy_attr = {"a40_same_file_maker": fm, "a40_same_ca_cert": ca, "a40_same_ip": ip, "a40_same_mac": mac,
                     "a40_same_bond_account": bond, "a40_same_project_manager": pm}.get(a)
        if copy_attr is not None and m >= 2:
            k = 3 if (m >= 3 and rng.random() < 0.3) else 2
            pos = [int(v) for v in rng.choice(m, size=k, replace=False)]
            for j in pos[1:]:
                copy_attr[j] = copy_attr[pos[0]]
            lot.detail = f"{k} bidders share {a[9:]}: " + ",".join(ents[bidders[j]].uscc for j in pos)
        # --- evaluation
        q = rng.normal(0, 1, m)
        if lot.fav[1] in bidders and lot.fav[1] != lot.forced:
            q[bidders.index(lot.fav[1])] = rng.uniform(-1.5, -0.8)
        if fpos >= 0:
            q[fpos] = max(q) + 1.5
        winner = -1
        if lot.outcome == "awarded":
            vidx = [i for i in range(m) if valid[i]]
            if auction:
                winner = max(range(m), key=lambda i: price[i])
            elif evaluated and vidx:
                winner = self.evaluate(lot, bidders, price, vidx, q, fpos)
            else:
                winner = vidx[0] if vidx else -1
        if winner < 0 and lot.outcome == "awarded":
            lot.outcome = "failed"
        # --- record the bids
        base = len(self.bid_cols["lot"])
        lot.b0, lot.b1 = base, base + m
        v1 = dl + int(rng.integers(5, 40)) * 60
        v2 = self.ts(lot.eval_day, 14, 18) if (evaluated and lot.eval_day > lot.opened_day) else -1
        if evaluated and v2 < 0:
            v1 = max(v1, dl + 2 * HOUR + int(rng.integers(0, 240)) * 60)  # validity known the same afternoon
        cols = self.bid_cols
        for i in range(m):
            cols["lot"].append(lot.idx)
            cols["ent"].append(bidders[i])
            cols["price"].append(price[i])
            cols["sub"].append(sub[i])
            cols["ip"].append(ip[i])
            cols["mac"].append(mac[i])
            cols["fm"].append(fm[i])
            cols["ca"].append(ca[i])
            cols["bond"].append(bond[i])
            cols["bond_ts"].append(bond_ts[i])
            cols["pm"].append(pm[i])
            cols["valid"].append(valid[i])
            cols["reason"].append(reason[i])
            cols["v1"].append(v1)
            cols["v2"].append(v2)
        if winner >= 0:
            lot.winner = base + winner
            lot.award_price = price[winner]

    def panel_for(self, lot: Lot, bidders: list[int]) -> list[tuple[int, str]]:
        """Draw the evaluation panel: specialty group, site(s), and 回避 of bidders' employees."""
        rng = self.rng
        g = 0 if lot.category == "construction" else 1
        k = int(rng.choice([5, 7, 9], p=[0.25, 0.55, 0.2]))
        sites = [lot.host] * k
        if lot.remote:
            n_host = (k + 1) // 2
            sites = [lot.host] * n_host + [lot.guests[i % len(lot.guests)] for i in range(k - n_host)]
        bset = set(bidders)
        chosen: list[int] = []
        panel: list[tuple[int, str]] = []
        for site in sites:
            for pool in (self.expert_pool.get((g, site), []), self.expert_pool[(g, "all")]):
                if not pool:
                    continue
                cand = dict.fromkeys(rng.integers(0, len(pool), size=8).tolist())  # O(1), not a permutation
                pick = next((pool[c] for c in cand if pool[c] not in chosen
                             and self.experts[pool[c]].employer not in bset), -1)
                if pick >= 0:
                    chosen.append(pick)
                    panel.append((pick, site))
                    break
        return panel

    def evaluate(self, lot: Lot, bidders: list[int], price: list[int], vidx: list[int], q: np.ndarray,
                 fpos: int) -> int:
        """Panel scores for the valid bids; returns the winning position in `bidders`."""
        rng = self.rng
        panel = self.panel_for(lot, bidders)
        if lot.anomaly == "ex_employed_by_bidder":
            b = bidders[int(rng.integers(0, len(bidders)))]
            g = 0 if lot.category == "construction" else 1
            own = [k for k in self.emp_experts.get(b, []) if k not in [p for p, _ in panel] and self.experts[k].retire_ts < 0]
            exp = own[0] if own else self.special_expert(g, panel[-1][1] if panel else lot.host, employer=b)
            site = panel[-1][1] if panel else lot.host
            panel = panel[:-1] + [(exp, site)]
            lot.detail = f"expert {self.experts[exp].expert_id} is employed by bidder {self.entities[b].uscc}"
        for who in (lot.fav[0], lot.aff[0]):
            if who >= 0 and panel and who not in [p for p, _ in panel]:
                panel[0] = (who, panel[0][1])
        lot.panel = panel
        if not panel:
            return min(vidx, key=lambda i: price[i])
        mv, k = len(vidx), len(panel)
        vp = np.array([price[i] for i in vidx], dtype=np.float64)
        pos_valid_ok = vp > 0
        best = vp[pos_valid_ok].min()
        bias = np.array([self.experts[e].bias for e, _ in panel])
        qq = q[vidx]
        if lot.eval_method == "comprehensive":
            # a share of panels disagree widely (sd 6 points instead of 1.8): real committees do,
            # and a favouritism rule must judge a deviation against that panel's spread. Chosen by
            # a hash of the lot, so the random streams (and everything else) stay as they were.
            divided = zlib.crc32(f"divided:{self.seed}:{lot.idx}".encode()) % 100 < an.DIVIDED_PANEL_PCT
            noise_sd = 6.0 if divided and lot.fav[0] < 0 else 1.8
            tech = np.clip(36 + 4.5 * qq[:, None] + bias[None, :] + rng.normal(0, noise_sd, (mv, k)), 10, 50).round(1)
            if divided and k >= 3 and mv >= 1:
                others_mean = (tech.sum(axis=1, keepdims=True) - tech) / (k - 1)
                if (tech - others_mean).max() >= 10:
                    self.near_misses.append(("ex_favouritism", "tender", lot.tender_id,
                                             f"divided panel: an expert {float((tech - others_mean).max()):.1f} "
                                             "points above the others once, within the panel's spread"))
            comm = np.clip(14 + 1.5 * qq[:, None] + rng.normal(0, 0.8, (mv, k)), 5, 20).round(1)
            ps = np.repeat((30 * best / vp).round(2)[:, None], k, axis=1)
        else:
            tech = np.full((mv, k), np.nan)
            comm = np.full((mv, k), np.nan)
            ps = np.repeat((100 * best / vp).round(2)[:, None], k, axis=1)
        if lot.fav[0] >= 0 and lot.fav[1] in bidders and bidders.index(lot.fav[1]) in vidx and lot.eval_method == "comprehensive":
            r = vidx.index(bidders.index(lot.fav[1]))
            c = [p for p, _ in panel].index(lot.fav[0])
            others = np.delete(tech[r], c)
            tech[r, c] = min(50.0, round(float(others.mean() + rng.uniform(12, 18)), 1))
            lot.detail = (f"expert {self.experts[lot.fav[0]].expert_id} tech {tech[r, c]} for "
                          f"{self.entities[lot.fav[1]].uscc} vs panel mean {others.mean():.1f}")
        total = np.nan_to_num(tech) + np.nan_to_num(comm) + ps
        if lot.eval_method == "comprehensive":
            mean = total.mean(axis=1)
            if fpos in vidx:
                r = vidx.index(fpos)
                gap = np.delete(mean, r).max() - mean[r] if mv > 1 else -1
                if gap >= 0:
                    tech[r] = np.minimum(50, tech[r] + round(gap + 0.6, 1))
                    total = np.nan_to_num(tech) + np.nan_to_num(comm) + ps
                win = fpos
            else:
                win = vidx[int(np.argmax(total.mean(axis=1)))]
        else:
            win = fpos if fpos in vidx else vidx[int(np.argmin(vp))]
        ev_ts = np.array([self.ts(lot.eval_day, 10, 17.5) for _ in panel], dtype=np.int64)
        self.ev_parts.append((lot.idx, np.array([bidders[i] for i in vidx]), np.array([p for p, _ in panel]),
                              [s for _, s in panel], tech, comm, ps, total.round(2), ev_ts))
        return win

    # ------------------------------------------------------------------ after the award
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
            lot.pub_start, lot.pub_end = ps, pe
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
        code = self.projects[lot.project].code
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
        for name, day in (("construction_start", start), ("completion", done), ("acceptance", acc),
                          ("final_settlement", settle)):
            amount = int(round(lot.contract_amount * f)) if name == "final_settlement" else None
            self.milestones.append((code, lot.tender_id, name, day, amount, self.ts(day + int(rng.integers(0, 4)))))

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
            cands = [x for x in awarded if x.remote and x.panel and not any(c["lot"] is x for c in self.cases)
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
            id=f"TS{year}{len(self.complaints) + 1:05d}", lot=lot, kind=kind, rd=rd, received_by=recv,
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
            sid = self.entities[self.bid_cols["ent"][int(rng.integers(lo, hi))]].uscc
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
        case = dict(id=f"CF{year}{len(self.cases) + 1:05d}", lot=lot, subject_type=subject_type, subject_id=sid,
                    violation=violation, decided_by=f"{lot.pref}-{supervising_suffix(lot.category, lot.industry)}",
                    decided_ts=self.ts(dd), penalty=penalty, notified=notified, late=late)
        if late:
            case["detail"] = f"guest site notified {n} working days after the decision"
        self.cases.append(case)

    def build_credit(self) -> None:
        rng = self.rng
        seq = 0

        def record(ent: int, list_type: str, decided: int, until: int | None, revoked: int | None,
                   measures: str, reason: str, authority: str) -> None:
            nonlocal seq
            seq += 1
            self.credit.append(dict(ent=ent, id=f"XY53{decided + 30000:06d}{seq:05d}", list_type=list_type,
                                    decided=decided, until=until, revoked=revoked, measures=measures,
                                    reason=reason, authority=authority))

        for ent, decided in self.banned:
            record(ent, "serious_dishonest", decided, decided + 3 * 365, None, "bid_ban;procurement_ban",
                   "在招标投标活动中提供虚假材料骗取中标", "云南省住房和城乡建设厅")
        for ent, _, decided, until, revoked in self.credit_specials:
            record(ent, "serious_dishonest", decided, until, revoked, "bid_ban;procurement_ban",
                   "串通投标被依法处理", "云南省发展和改革委员会")
        regular = [i for v in self._group_all.values() for i in v]
        for list_type, share, measures, reason in (
                ("red_list", 0.03, "public_notice", "纳税信用A级纳税人"),
                ("administrative_penalty", 0.02, "public_notice", "安全生产违法行为被处以罚款"),
                ("abnormal_operation", 0.01, "public_notice", "未按规定报送年度报告")):
            k = max(1, round(share * len(regular)))
            for i in sorted(rng.choice(len(regular), size=min(k, len(regular)), replace=False).tolist()):
                decided = self.s - 400 + int(rng.integers(0, 400 + self.days))
                revoked = None
                if list_type == "abnormal_operation" and rng.random() < 0.4:
                    revoked = decided + int(rng.integers(30, 200))
                record(regular[i], list_type, decided, decided + 365 * 2 if list_type != "abnormal_operation" else None,
                       revoked, measures, reason, "云南省市场监督管理局" if list_type == "abnormal_operation" else "云南省发展和改革委员会")

    # ------------------------------------------------------------------ ground truth
    def collect_truth(self) -> None:
        settled = {m[1] for m in self.milestones if m[2] == "final_settlement" and m[3] <= self.e}
        for lot in self.lots:
            a = lot.anomaly
            if lot.ring >= 0 and lot.b1 > lot.b0:
                members = ",".join(self.entities[m].uscc for m in self.rings[lot.ring])
                d = f"ring R{lot.ring + 1:02d} [{members}] winner {self.entities[lot.ring_winner].uscc}"
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
                ok = awarded and self.bid_cols["ent"][lot.winner] == lot.aff[1] and lot.aff[0] in [p for p, _ in lot.panel]
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

    # ------------------------------------------------------------------ tables
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

    def tables(self) -> dict[str, Table]:
        self._messy_rng = stream(self.seed, "messy")
        self._messy_first = False
        R = {f.name: Rows(f) for f in fc.FILES}
        ents, persons = self.entities, self.persons
        # entities and links
        for e in ents:
            lr_name, lr_id = persons[e.lr]
            c_name, _ = persons[e.contact]
            base = dict(entity_id=e.uscc, entity_name=e.name, entity_role=e.role, legal_rep_name=lr_name,
                        legal_rep_id_no=lr_id, contact_name=c_name, contact_phone=e.phone, address=e.address,
                        region_code=e.county, registered_capital=e.capital, established_on=e.established)
            R["entities.csv"].add(e.snap_ts, **base, updated_at=e.snap_ts)
            if e.update_ts > e.snap_ts:
                base["registered_capital"] = int(e.capital * 1.5)
                R["entities.csv"].add(e.update_ts, **base, updated_at=e.update_ts)
            links = [("legal_rep", lr_id, lr_name, None), ("staff", persons[e.contact][1], c_name, None)]
            links += [("shareholder", sid, sname, pct) for sid, sname, pct in e.shareholders]
            links += [("project_manager", persons[p][1], persons[p][0], None) for p in e.pms]
            seen_links: set[tuple[str, str]] = set()
            for lt, lid, lname, pct in links:
                if (lt, lid) in seen_links:
                    continue
                seen_links.add((lt, lid))
                R["entity_links.csv"].add(e.snap_ts, entity_id=e.uscc, link_type=lt, linked_id=lid,
                                          linked_name=lname, share_pct=pct, updated_at=e.snap_ts)
        # experts
        for x in self.experts:
            row = dict(expert_id=x.expert_id, expert_name=x.name,
                       employer_id=ents[x.employer].uscc if x.employer >= 0 else None,
                       specialty=x.specialty, region_code=x.pref)
            R["experts.csv"].add(x.snap_ts, **row, updated_at=x.snap_ts)
            if x.retire_ts > x.snap_ts:
                row["employer_id"] = None
                R["experts.csv"].add(x.retire_ts, **row, updated_at=x.retire_ts)
        # approval projects
        for pr in self.projects:
            row = dict(project_name=pr.name, owner_id=ents[pr.owner].uscc, region_code=pr.county, industry=pr.industry,
                       approval_type=pr.approval_type, approval_doc_no=pr.doc_no, approved_at=pr.approved_ts,
                       approved_investment=pr.investment, budget_amount=pr.budget, funding_source=pr.funding)
            R["projects.jsonl"].add(pr.approved_ts, project_code=self.messy(pr.code, 0.01), **row, updated_at=pr.approved_ts)
            if pr.v2_ts > pr.approved_ts:
                row["approved_investment"] = int(pr.investment * 1.1)
                R["projects.jsonl"].add(pr.v2_ts, project_code=self.messy(pr.code, 0.01), **row, updated_at=pr.v2_ts)
        for code, tid, name, day, amount, ts in self.milestones:
            R["milestones.jsonl"].add(ts, project_code=self.messy(code, 0.02), tender_id=tid, milestone=name,
                                      occurred_on=day, amount=amount, updated_at=ts)
        # tenders, awards, contracts
        self._messy_first = True
        for lot in self.lots:
            row = dict(tender_id=lot.tender_id, tender_name=lot.name, category=lot.category, industry=lot.industry,
                       region_code=lot.county, tenderer_id=ents[lot.tenderer].uscc,
                       agency_id=ents[lot.agency].uscc if lot.agency >= 0 else None,
                       procurement_method=lot.method, control_price=lot.control if lot.control >= 0 else None,
                       announced_at=lot.announced, bid_deadline=lot.deadline, evaluation_method=lot.eval_method,
                       evaluation_separated=lot.separated, remote_evaluation=lot.remote, host_site=lot.host,
                       guest_sites=";".join(lot.guests) or None)
            t = R["tenders.csv"]
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
            winner = ents[self.bid_cols["ent"][lot.winner]].uscc
            R["awards.csv"].add(lot.award_ts, tender_id=lot.tender_id, winner_id=winner, award_price=lot.award_price,
                                awarded_at=lot.award_ts, publicity_start=lot.pub_start, publicity_end=lot.pub_end,
                                updated_at=lot.award_ts)
            R["contracts.csv"].add(lot.contract_ts, contract_id="HT" + lot.tender_id[1:], tender_id=lot.tender_id,
                                   winner_id=winner, contract_amount=lot.contract_amount, signed_at=lot.contract_ts,
                                   updated_at=lot.contract_ts)
        # complaints and cases
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
                R["complaints.csv"].add(ts, **v, updated_at=ts)
        for c in self.cases:
            row = dict(case_id=c["id"], tender_id=c["lot"].tender_id, subject_type=c["subject_type"],
                       subject_id=c["subject_id"], violation=c["violation"],
                       decided_by=self.feed_department_code(c["decided_by"], "case", c["id"], "decided_by", c["lot"].pref),
                       decided_at=c["decided_ts"], penalty=c["penalty"])
            if c["notified"] >= 0 and c["notified"] // DAY == c["decided_ts"] // DAY:
                R["cases.csv"].add(c["notified"], **row, guest_site_notified_at=c["notified"], updated_at=c["notified"])
                continue
            R["cases.csv"].add(c["decided_ts"], **row, updated_at=c["decided_ts"])
            if c["notified"] >= 0:
                R["cases.csv"].add(c["notified"], **row, guest_site_notified_at=c["notified"], updated_at=c["notified"])
        # credit records
        for r in self.credit:
            e = ents[r["ent"]]
            ts = self.ts(r["decided"])
            row = dict(record_id=r["id"], entity_id=e.uscc, entity_name=e.name, list_type=r["list_type"],
                       reason=r["reason"], authority=r["authority"],
                       decision_no=f"云信〔{to_date(r['decided']).year}〕{int(r['id'][-5:])}号",
                       decided_on=r["decided"], effective_from=r["decided"], effective_until=r["until"],
                       measures=r["measures"])
            R["records.jsonl"].add(ts, **row, updated_at=ts)
            if r["revoked"] is not None:
                rts = self.ts(r["revoked"])
                R["records.jsonl"].add(rts, **row, revoked_on=r["revoked"], updated_at=rts)
        # tax
        self.tax_rows(R["taxpayers.csv"])
        return {f.table: to_table(R[f.name], self.s) for f in fc.FILES}

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

    def tax_rows(self, rows: Rows) -> None:
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
                contract_of[self.bid_cols["ent"][lot.winner]] = lot.contract_amount
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

    def tax_changes_after_award(self, rows: Rows) -> None:
        """Near-miss of cr_tax_abnormal_winner: a few regular winners become 非正常户 (or are
        rated D) 1-30 days after their last award. The status on the award date was normal, so
        a detector that reads today's status instead of the award date's is wrong on them."""
        rng = stream(self.seed, "tax_after_award")  # own stream: the other tax rows stay as they were
        last_win: dict[int, tuple[int, int]] = {}
        for k, lot in enumerate(self.lots):
            if lot.winner >= 0 and lot.outcome == "awarded" and lot.award_day <= self.e:
                ent = int(self.bid_cols["ent"][lot.winner])
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

    # ------------------------------------------------------------------ evaluation arrays
    def evaluation_table(self) -> Table:
        """Built from numpy blocks, not row dicts: this is where the volume is (~1M rows at scale 1)."""
        f = fc.feed_file("trading_centre", "evaluations")
        if not self.ev_parts:
            empty = {c.name: np.array([], dtype=np.int64 if c.kind == fc.TIMESTAMP else (np.float64 if c.kind == fc.NUMBER else object))
                     for c in f.columns}
            return Table(f, empty, np.array([], dtype=np.int64))
        tid = np.array([x.tender_id for x in self.lots], dtype=object)
        uscc = np.array([x.uscc for x in self.entities], dtype=object)
        eid = np.array([x.expert_id for x in self.experts], dtype=object)
        parts = defaultdict(list)
        for lot, bid_ents, exps, sites, tech, comm, ps, total, ev_ts in self.ev_parts:
            mv, k = tech.shape
            parts["tender"].append(np.full(mv * k, lot, dtype=np.int32))
            parts["bidder"].append(np.repeat(bid_ents, k).astype(np.int32))
            parts["expert"].append(np.tile(exps, mv).astype(np.int32))
            parts["site"].append(np.tile(np.array(sites, dtype=object), mv))
            parts["ts"].append(np.tile(ev_ts, mv))
            for name, arr in (("tech", tech), ("comm", comm), ("ps", ps), ("total", total)):
                parts[name].append(arr.ravel())
        cat = {k: np.concatenate(v) for k, v in parts.items()}
        cols = {"tender_id": tid[cat["tender"]], "expert_id": eid[cat["expert"]], "bidder_id": uscc[cat["bidder"]],
                "site": cat["site"], "tech_score": cat["tech"], "commercial_score": cat["comm"],
                "price_score": cat["ps"], "total_score": cat["total"], "evaluated_at": cat["ts"]}
        return Table(f, cols, np.maximum(cat["ts"] // DAY, self.s))

    def bid_table(self) -> Table:
        f = fc.feed_file("trading_centre", "bids")
        c = {k: np.array(v, dtype=object if k in ("ip", "mac", "fm", "ca", "bond", "pm", "reason") else np.int64)
             for k, v in self.bid_cols.items()} if self.bid_cols else {}
        n = len(c.get("lot", []))
        if n == 0:
            return to_table(Rows(f), self.s)
        tid = np.array([x.tender_id for x in self.lots], dtype=object)
        uscc = np.array([x.uscc for x in self.entities], dtype=object)
        lot = c["lot"]
        # bid ids: <tender_id>-B<nn> in order within the lot
        first = np.array([x.b0 for x in self.lots], dtype=np.int64)[lot]
        bid_id = np.array([f"{t}-B{k + 1:03d}" for t, k in zip(tid[lot], np.arange(n) - first, strict=True)], dtype=object)
        has_v2 = c["v2"] >= 0
        # version 1 (opening): validity unknown yet where evaluation is on a later day
        rows = np.concatenate([np.arange(n), np.nonzero(has_v2)[0]])
        upd = np.concatenate([c["v1"], c["v2"][has_v2]])
        valid = np.concatenate([np.where(has_v2, -1, c["valid"]).astype(np.int8), c["valid"][has_v2].astype(np.int8)])
        reason = np.concatenate([np.where(has_v2, None, c["reason"]), c["reason"][has_v2]])
        cols = {"bid_id": bid_id[rows], "tender_id": tid[lot][rows], "bidder_id": uscc[c["ent"]][rows],
                "bid_price": c["price"][rows], "submitted_at": c["sub"][rows], "client_ip": c["ip"][rows],
                "client_mac": c["mac"][rows], "file_maker_code": c["fm"][rows], "ca_cert_serial": c["ca"][rows],
                "bond_account": c["bond"][rows], "bond_paid_at": c["bond_ts"][rows],
                "project_manager_id_no": c["pm"][rows], "is_valid": valid, "rejection_reason": reason,
                "updated_at": upd}
        return Table(f, cols, np.maximum(upd // DAY, self.s))


FULLWIDTH = str.maketrans({**{chr(ord("0") + i): chr(0xFF10 + i) for i in range(10)}, "-": "\uff0d"})


def build_world(start_day: int, end_day: int, scale: float, seed: int, anomaly_rate: float) -> tuple[World, dict[str, Table]]:
    """Simulate the range and return the world plus one Table per contract file."""
    w = World(start_day, end_day, scale, seed, anomaly_rate)
    w.banned = []
    w.build_master()
    w.build_lots()
    w.plan_anomalies()
    w.plan_credit_history()
    w.simulate()
    w.post_award()
    w.build_complaints_cases()
    w.build_credit()
    w.collect_truth()
    tables = w.tables()
    tables["trading_centre__bids"] = w.bid_table()
    tables["trading_centre__evaluations"] = w.evaluation_table()
    return w, tables
