"""The evaluation of a lot's valid bids: the panel drawn from the expert pool (by specialty
and site, bidders' employees excluded), each expert's technical, commercial and price scores,
and the winner the scores give (planted winners and favoured companies scored up).

The scores are the largest table of the feeds (~1M rows a province-year), so they are kept
in `EvaluationLog`: flat typed arrays, 2 bytes a score, expanded into rows only when a
batch is written.
"""

from __future__ import annotations

import zlib
from array import array
from collections import defaultdict

import numpy as np

from ggzy.generator import anomalies as an
from ggzy.generator.calendar import DAY
from ggzy.generator.model import Lot
from ggzy.generator.regions import PREFECTURES

SCORE_COLUMNS = ("tech_score", "commercial_score", "price_score", "total_score")
STORED_SCORES = SCORE_COLUMNS[:3]  # the total is their sum (checked when a panel's scores are added)
NO_SCORE = -32768  # a score column left empty (lowest-price evaluation has no tech/commercial score)
SITES = tuple(PREFECTURES)
EPOCH_2000 = 946_684_800  # 2000-01-01 in the world's seconds: evaluation times are kept as seconds after it


def total_hundredths(hundredths: dict[str, np.ndarray]) -> np.ndarray:
    """total_score in hundredths: technical + commercial + price, an empty score counting 0."""
    return sum(np.where(hundredths[c] == NO_SCORE, 0, hundredths[c]).astype(np.int32) for c in STORED_SCORES)


class EvaluationLog:
    """Every panel's scores for the year, in the order the lots were evaluated.

    One part per evaluated lot: its valid bidders (entity indexes), its panel (expert indexes
    and sites), one evaluation time per expert, and a bidders x experts matrix per score in
    hundredths (scores are rounded to 0.1 or 0.01 points, so hundredths hold them exactly);
    the total is not kept: it is the sum of the other three, in hundredths. Technical and
    commercial scores are kept only for the panels that gave them (not lowest-price ones).
    """

    def __init__(self) -> None:
        self.lot = array("i")
        self.bidder_start, self.expert_start, self.score_start = array("q", [0]), array("q", [0]), array("q", [0])
        self.quality_start = array("q", [0])  # of the part's technical and commercial scores
        self.bidders, self.experts, self.sites = array("i"), array("i"), array("b")
        self.evaluated_at = array("i")  # seconds after EPOCH_2000: 4 bytes, good to 2068
        self.scores = {c: array("h") for c in STORED_SCORES}
        self.parts_by_day: dict[int, list[int]] = defaultdict(list)

    def __len__(self) -> int:
        return len(self.lot)

    def add(self, lot: int, bidders: list[int], experts: list[int], sites: list[str],
            scores: tuple[np.ndarray, ...], evaluated_at: np.ndarray) -> None:
        part = len(self.lot)
        self.lot.append(lot)
        self.bidders.extend(bidders)
        self.experts.extend(experts)
        self.sites.extend(SITES.index(s) for s in sites)
        self.evaluated_at.extend((evaluated_at - EPOCH_2000).tolist())
        hundredths: dict[str, np.ndarray] = {}
        for column, matrix in zip(SCORE_COLUMNS, scores, strict=True):
            rounded = np.rint(matrix * 100)
            on_grid = np.isnan(matrix) | (np.abs(matrix * 100 - rounded) < 1e-6)
            if not on_grid.all():
                raise ValueError(f"{column} of lot {lot} not in hundredths: {matrix[~on_grid][:3]}")
            hundredths[column] = np.where(np.isnan(matrix), NO_SCORE, rounded).astype(np.int16)
        if not np.array_equal(total_hundredths(hundredths), hundredths["total_score"]):
            raise ValueError(f"total_score of lot {lot} is not the sum of its parts")
        quality = ("tech_score", "commercial_score")
        scored = any((hundredths[c] != NO_SCORE).any() for c in quality)
        for column in STORED_SCORES if scored else ("price_score",):
            self.scores[column].extend(hundredths[column].ravel().tolist())
        self.quality_start.append(len(self.scores["tech_score"]))
        self.bidder_start.append(len(self.bidders))
        self.expert_start.append(len(self.experts))
        self.score_start.append(len(self.scores["price_score"]))
        for day in sorted({int(t) // DAY for t in evaluated_at.tolist()}):
            self.parts_by_day[day].append(part)

    def rows(self, parts: list[int]) -> dict[str, np.ndarray]:
        """The parts' rows (bidder-major within a part), as integer codes and float scores:
        lot, bidder, expert, site (index into SITES), evaluated_at and the four scores."""
        pieces: dict[str, list[np.ndarray]] = defaultdict(list)
        for part in parts:
            bidders = np.frombuffer(self.bidders, dtype=np.int32)[self.bidder_start[part]:self.bidder_start[part + 1]]
            lo, hi = self.expert_start[part], self.expert_start[part + 1]
            experts = np.frombuffer(self.experts, dtype=np.int32)[lo:hi]
            n_bidders, n_experts = len(bidders), hi - lo
            pieces["lot"].append(np.full(n_bidders * n_experts, self.lot[part], dtype=np.int64))
            pieces["bidder"].append(np.repeat(bidders, n_experts))
            pieces["expert"].append(np.tile(experts, n_bidders))
            pieces["site"].append(np.tile(np.frombuffer(self.sites, dtype=np.int8)[lo:hi], n_bidders))
            at = np.frombuffer(self.evaluated_at, dtype=np.int32)[lo:hi].astype(np.int64) + EPOCH_2000
            pieces["evaluated_at"].append(np.tile(at, n_bidders))
            s0, s1 = self.score_start[part], self.score_start[part + 1]
            q0, q1 = self.quality_start[part], self.quality_start[part + 1]
            hundredths = {c: np.frombuffer(self.scores[c], dtype=np.int16)[q0:q1] if q1 > q0
                          else np.full(s1 - s0, NO_SCORE, dtype=np.int16) for c in ("tech_score", "commercial_score")}
            hundredths["price_score"] = np.frombuffer(self.scores["price_score"], dtype=np.int16)[s0:s1]
            for column in STORED_SCORES:
                pieces[column].append(np.where(hundredths[column] == NO_SCORE, np.nan, hundredths[column] / 100))
            pieces["total_score"].append(total_hundredths(hundredths) / 100)
        if not parts:
            return {c: np.array([], dtype=np.float64 if c in SCORE_COLUMNS else np.int64)
                    for c in ("lot", "bidder", "expert", "site", "evaluated_at", *SCORE_COLUMNS)}
        return {c: np.concatenate(v) for c, v in pieces.items()}


class Evaluation:
    """Mixin of World: panels and scores of the evaluated lots."""

    def panel_for(self, lot: Lot, bidders: list[int]) -> list[tuple[int, str]]:
        """Draw the evaluation panel: specialty group, site(s), and 回避 of bidders' employees."""
        rng = self.rng
        group = 0 if lot.category == "construction" else 1
        size = int(rng.choice([5, 7, 9], p=[0.25, 0.55, 0.2]))
        sites = [lot.host] * size
        if lot.remote:
            n_host = (size + 1) // 2
            sites = [lot.host] * n_host + [lot.guests[i % len(lot.guests)] for i in range(size - n_host)]
        bidder_set = set(bidders)
        chosen: list[int] = []
        panel: list[tuple[int, str]] = []
        for site in sites:
            for pool in (self.expert_pool.get((group, site), []), self.expert_pool[(group, "all")]):
                if not pool:
                    continue
                candidates = dict.fromkeys(rng.integers(0, len(pool), size=8).tolist())  # O(1), not a permutation
                pick = next((pool[c] for c in candidates if pool[c] not in chosen
                             and self.experts[pool[c]].employer not in bidder_set), -1)
                if pick >= 0:
                    chosen.append(pick)
                    panel.append((pick, site))
                    break
        return panel

    def evaluate(self, lot: Lot, bidders: list[int], prices: list[int], valid_pos: list[int], quality: np.ndarray,
                 forced_pos: int) -> int:
        """Panel scores for the valid bids; returns the winning position in `bidders`."""
        panel = self.seat_planted_experts(lot, bidders, self.panel_for(lot, bidders))
        lot.seat_panel(panel)
        if not panel:
            return min(valid_pos, key=lambda i: prices[i])
        valid_prices = np.array([prices[i] for i in valid_pos], dtype=np.float64)
        tech, commercial, price_score = self.score_bids(lot, bidders, panel, valid_prices, valid_pos, quality)
        total = np.nan_to_num(tech) + np.nan_to_num(commercial) + price_score
        if lot.eval_method == "comprehensive":
            if forced_pos in valid_pos:
                # the planted winner's technical scores raised just enough to come first
                mean = total.mean(axis=1)
                row = valid_pos.index(forced_pos)
                gap = np.delete(mean, row).max() - mean[row] if len(valid_pos) > 1 else -1
                if gap >= 0:
                    tech[row] = np.minimum(50, tech[row] + round(gap + 0.6, 1))
                    total = np.nan_to_num(tech) + np.nan_to_num(commercial) + price_score
                winner = forced_pos
            else:
                winner = valid_pos[int(np.argmax(total.mean(axis=1)))]
        else:
            winner = forced_pos if forced_pos in valid_pos else valid_pos[int(np.argmin(valid_prices))]
        evaluated_at = np.array([self.ts(lot.eval_day, 10, 17.5) for _ in panel], dtype=np.int64)
        self.evaluations.add(lot.idx, [bidders[i] for i in valid_pos], [p for p, _ in panel], [s for _, s in panel],
                             (tech, commercial, price_score, total.round(2)), evaluated_at)
        return winner

    def seat_planted_experts(self, lot: Lot, bidders: list[int], panel: list[tuple[int, str]]) -> list[tuple[int, str]]:
        """Put the experts an anomaly needs on the panel: one employed by a bidder
        (ex_employed_by_bidder), the favouring or affine expert of the lot's pair."""
        rng = self.rng
        if lot.anomaly == "ex_employed_by_bidder":
            company = bidders[int(rng.integers(0, len(bidders)))]
            group = 0 if lot.category == "construction" else 1
            own = [x for x in self.emp_experts.get(company, [])
                   if x not in [p for p, _ in panel] and self.experts[x].retire_ts < 0]
            site = panel[-1][1] if panel else lot.host
            expert = own[0] if own else self.special_expert(group, site, employer=company)
            panel = panel[:-1] + [(expert, site)]
            lot.detail = f"expert {self.experts[expert].expert_id} is employed by bidder {self.entities[company].uscc}"
        for who in (lot.fav[0], lot.aff[0]):
            if who >= 0 and panel and who not in [p for p, _ in panel]:
                panel[0] = (who, panel[0][1])
        return panel

    def score_bids(self, lot: Lot, bidders: list[int], panel: list[tuple[int, str]], valid_prices: np.ndarray,
                   valid_pos: list[int], quality: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Valid bids x experts: technical (10-50) and commercial (5-20) scores from the bid's
        quality, the expert's bias and noise, and the price score (30 or 100 x lowest / price);
        lowest-price evaluation has only the price score. A favouring expert scores its company
        12-18 points above the rest of the panel."""
        rng = self.rng
        n_valid, n_experts = len(valid_pos), len(panel)
        best = valid_prices[valid_prices > 0].min()
        bias = np.array([self.experts[e].bias for e, _ in panel])
        valid_quality = quality[valid_pos]
        if lot.eval_method == "comprehensive":
            # a share of panels disagree widely (sd 6 points instead of 1.8): real committees do,
            # and a favouritism rule must judge a deviation against that panel's spread. Chosen by
            # a hash of the lot, so the random streams (and everything else) stay as they were.
            divided = zlib.crc32(f"divided:{self.seed}:{lot.idx}".encode()) % 100 < an.DIVIDED_PANEL_PCT
            noise_sd = 6.0 if divided and lot.fav[0] < 0 else 1.8
            noise = rng.normal(0, noise_sd, (n_valid, n_experts))
            tech = np.clip(36 + 4.5 * valid_quality[:, None] + bias[None, :] + noise, 10, 50).round(1)
            if divided and n_experts >= 3 and n_valid >= 1:
                others_mean = (tech.sum(axis=1, keepdims=True) - tech) / (n_experts - 1)
                if (tech - others_mean).max() >= 10:
                    self.near_misses.append(("ex_favouritism", "tender", lot.tender_id,
                                             f"divided panel: an expert {float((tech - others_mean).max()):.1f} "
                                             "points above the others once, within the panel's spread"))
            noise = rng.normal(0, 0.8, (n_valid, n_experts))
            commercial = np.clip(14 + 1.5 * valid_quality[:, None] + noise, 5, 20).round(1)
            price_score = np.repeat((30 * best / valid_prices).round(2)[:, None], n_experts, axis=1)
        else:
            tech = np.full((n_valid, n_experts), np.nan)
            commercial = np.full((n_valid, n_experts), np.nan)
            price_score = np.repeat((100 * best / valid_prices).round(2)[:, None], n_experts, axis=1)
        if (lot.fav[0] >= 0 and lot.fav[1] in bidders and bidders.index(lot.fav[1]) in valid_pos
                and lot.eval_method == "comprehensive"):
            row = valid_pos.index(bidders.index(lot.fav[1]))
            column = [p for p, _ in panel].index(lot.fav[0])
            others = np.delete(tech[row], column)
            tech[row, column] = min(50.0, round(float(others.mean() + rng.uniform(12, 18)), 1))
            lot.detail = (f"expert {self.experts[lot.fav[0]].expert_id} tech {tech[row, column]} for "
                          f"{self.entities[lot.fav[1]].uscc} vs panel mean {others.mean():.1f}")
        return tech, commercial, price_score
