"""What the simulated province is made of: companies, experts, approved projects and lots.

Plain records (dataclasses with slots: a scale-16 year holds ~320k lots) that the
simulation steps fill in; `stream` gives each component its own seeded random stream.
"""

from __future__ import annotations

import zlib
from array import array
from dataclasses import dataclass, field

import numpy as np

from ggzy.generator.calendar import DAY
from ggzy.generator.regions import PREFECTURES

NA = np.iinfo(np.int64).min  # null for integer-coded columns (timestamps, dates, cents)
HOUR = 3600


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per component, so components don't shift each other."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


class People:
    """Everyone the world names (legal representatives, contacts, shareholders, project
    managers) as `people[i] == (name, id_no)`, kept in two lists: a tuple each costs 56 bytes."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.id_nos: list[str] = []

    def append(self, person: tuple[str, str]) -> None:
        self.names.append(person[0])
        self.id_nos.append(person[1])

    def __getitem__(self, i: int) -> tuple[str, str]:
        return self.names[i], self.id_nos[i]

    def __len__(self) -> int:
        return len(self.names)


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
    lots: tuple[int, ...] = ()
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
    extra: tuple[int, ...] = ()  # extra bidder entities
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
    panel_packed: bytes = b""  # the evaluation panel, per member: expert index (4 bytes), then sites (1 byte each)

    @property
    def opened_day(self) -> int:
        return self.deadline // DAY

    def seat_panel(self, panel: list[tuple[int, str]]) -> None:
        """Keep the panel packed (~70 bytes instead of two tuples' ~200: a scale-16 year evaluates ~250k lots)."""
        self.panel_packed = array("i", [e for e, _ in panel]).tobytes() + bytes(PREFECTURES.index(s) for _, s in panel)

    @property
    def panel(self) -> list[tuple[int, str]]:
        """(expert, site) of each panel member; empty when the lot was not evaluated."""
        n = len(self.panel_packed) // 5
        experts = array("i")
        experts.frombytes(self.panel_packed[:4 * n])
        return [(e, PREFECTURES[s]) for e, s in zip(experts, self.panel_packed[4 * n:], strict=True)]

    @property
    def evaluated(self) -> bool:
        return self.eval_method is not None
