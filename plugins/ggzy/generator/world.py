"""The simulated province: one coherent world for the whole date range.

Why one world and not day-by-day generation: the rules the warehouse checks connect
records far apart in time and across feeds (an approval months before the tender, a
settlement a year after the award, a credit ban decided before a bid). So the generator
first lives through the whole range — projects approved → lots announced on working days
→ bids → evaluation → award → publicity → contract → construction milestones, complaints
and cases with their time limits, credit records, tax — and only then cuts it into daily
deltas (tables.py, writer.py). Each record version carries the day it happened; versions
after the last day have not happened yet and are not written.

What the world keeps for the whole range is compact (records with slots, bids and scores in
typed arrays: evaluation.py, bidding.py); the rows of the feeds are made a batch day at a
time when streamed (tables.StreamedTables), so memory grows with the lots, not the rows.

Volumes follow the brief: scale 1 = a province-year of ~20k lots, ~150k bids, ~1M expert
scores; lots scale with scale × days/365, the master data (companies, experts) with scale.
Above scale 1 the province is simulated in shards, worlds of at most scale 1 that share no
identifier (World.serial, World.owns; shards.py says why and how).
Injected anomalies are defined in anomalies.py. Everything is drawn from numpy generators
seeded by (seed, stream name), so the same inputs give the same world.

The steps, in the order `simulate_world` runs them (each a mixin in its own module):

| step | module | models |
|---|---|---|
| master data | master.py | tenderers, agencies, bidders, experts, people |
| lots | lots.py | approved projects, lots and their dates |
| anomaly planting | planting.py | which lots break which rule; rings; credit histories |
| bidding | bidding.py | bidders, prices, rejections, submission traces, winner |
| evaluation | evaluation.py | panels and scores |
| post-award | post_award.py | award, publicity, contract, milestones |
| oversight | oversight.py | complaints and cases with their time limits |
| credit | credit.py | Credit China records |
| ground truth | truth.py | the planted anomalies that happened |
| feed rows | feed_rows.py | every record version as a contract-file row |
"""

from __future__ import annotations

import zlib
from collections import defaultdict

import numpy as np

from ggzy.feeds import contract as fc
from ggzy.generator.bidding import Bidding
from ggzy.generator.calendar import WorkCalendar
from ggzy.generator.credit import CreditRecords
from ggzy.generator.evaluation import Evaluation, EvaluationLog
from ggzy.generator.feed_rows import FeedRows
from ggzy.generator.lots import LotPlanning
from ggzy.generator.master import MasterData
from ggzy.generator.model import HOUR, NA, Entity, Expert, Lot, People, Project, stream
from ggzy.generator.oversight import Oversight
from ggzy.generator.planting import AnomalyPlanting
from ggzy.generator.post_award import MilestoneLog, PostAward
from ggzy.generator.regions import ACTIVITY, COUNTIES, PREFECTURES
from ggzy.generator.tables import Rows, Table, bid_table, evaluation_table, to_table
from ggzy.generator.truth import GroundTruth

__all__ = ["HOUR", "NA", "Entity", "Expert", "Lot", "Project", "Table", "World", "build_world", "simulate_world"]


# what the bidding drew from (build_credit still draws from _group_all)
DRAW_HELPERS = ("_pools", "_person_ids", "_usccs", "company_names_taken", "pool", "weight", "_cum_weight",
                "emp_experts", "expert_pool", "expert_employer", "_serials", "agencies_by_pref",
                "tenderers_by_pref")
RECORDED = ("lots", "projects", "persons", "experts", "milestones", "complaints", "cases", "credit", "banned",
            "rings", "credit_specials", "_ints")


class World(MasterData, LotPlanning, AnomalyPlanting, Bidding, Evaluation, PostAward, Oversight, CreditRecords,
            GroundTruth, FeedRows):
    """The province over [start_day, end_day]: its state, filled in by the steps' mixins."""

    def __init__(self, start_day: int, end_day: int, scale: float, seed: int, anomaly_rate: float,
                 shard: int = 0, shards: int = 1) -> None:
        self.s, self.e = start_day, end_day
        self.scale, self.seed, self.anomaly_rate = scale, seed, anomaly_rate
        self.shard, self.shards = shard, shards  # this world is shard `shard` of `shards` (see shards.py)
        self.days = end_day - start_day + 1
        self.cal = WorkCalendar(start_day - 800, end_day + 1600)
        self.range_workdays = self.cal.workdays[(self.cal.workdays >= self.s) & (self.cal.workdays <= self.e)]
        self.rng = stream(seed, "world")
        self.entities: list[Entity] = []
        self.persons = People()  # persons[i] == (name, id_no)
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
        self.milestones = MilestoneLog()
        self.banned: list[tuple[int, int]] = []  # (entity, ban decided): bidders the plan makes bid while banned
        self.evaluations = EvaluationLog()
        self._pools: dict[str, tuple[np.random.Generator, set[str], list[str]]] = {}
        self._serials: dict[tuple[int, str], int] = defaultdict(int)
        self._ints: dict[int, int] = {}  # shared_int's one copy of each time and day
        self.pref_weights = np.array([ACTIVITY[p] for p in PREFECTURES])
        self.pref_weights /= self.pref_weights.sum()
        self.county_names = {c: n for cs in COUNTIES.values() for c, n in cs}


    def serial(self, n: int) -> int:
        """The n-th number of a counted identifier (tender, project code, expert, complaint ...)
        in this shard's share of them: n itself in a world of one shard, else every
        `shards`-th number from `shard` on, so that the shards never count the same."""
        return n * self.shards + self.shard

    def owns(self, value: str) -> bool:
        """Whether a drawn identifier (USCC, ID number, phone, MAC, company name ...) lies in this
        shard's share of them (by hash): the shards draw from disjoint parts of each space, so
        what is distinct within a shard is distinct across shards. Always true with one shard:
        the draws are then those of an unsharded world."""
        return self.shards == 1 or zlib.crc32(value.encode()) % self.shards == self.shard

    def forget_draw_helpers(self) -> None:
        """Once every bid is drawn: what the draws picked from (identifiers and company names
        taken, bidders and experts by prefecture, weights) is not needed any more (no later step
        makes a company, person or expert)."""
        for name in DRAW_HELPERS:
            self.__dict__.pop(name, None)

    def forget_recorded(self) -> None:
        """After feed_rows has made every file's rows but bids and scores (the streamed path):
        keep only what those two and the ground truth are made from (companies, the bid and
        evaluation logs, the truth lists); tables.StreamedTables has taken the lots' tender ids."""
        for name in RECORDED:
            setattr(self, name, type(getattr(self, name))())

    def tables(self) -> dict[str, Table]:
        """Every contract file's rows for the whole range, in memory (see tables.InMemoryTables)."""
        sinks = {f.name: Rows(f) for f in fc.FILES if f.table not in ("trading_centre__bids", "trading_centre__evaluations")}
        self.feed_rows(sinks)
        tables = {sink.file.table: to_table(sink, self.s) for sink in sinks.values()}
        tables["trading_centre__bids"] = bid_table(self)
        tables["trading_centre__evaluations"] = evaluation_table(self)
        return tables


def simulate_world(start_day: int, end_day: int, scale: float, seed: int, anomaly_rate: float,
                   shard: int = 0, shards: int = 1) -> World:
    """Live through the range: every step below draws from the world's streams in this order."""
    w = World(start_day, end_day, scale, seed, anomaly_rate, shard, shards)
    w.build_master()
    w.build_lots()
    w.plan_anomalies()
    w.plan_credit_history()
    w.simulate()
    w.forget_draw_helpers()
    w.post_award()
    w.build_complaints_cases()
    w.build_credit()
    w.collect_truth()
    return w


def build_world(start_day: int, end_day: int, scale: float, seed: int, anomaly_rate: float) -> tuple[World, dict[str, Table]]:
    """Simulate the range and return the world plus one Table per contract file (all in memory)."""
    w = simulate_world(start_day, end_day, scale, seed, anomaly_rate)
    return w, w.tables()
