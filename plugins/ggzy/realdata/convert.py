"""Convert a labelled bid table (García Rodríguez et al. 2022 layout) into feed batches.

Input: one CSV row per bid with `Tender`, `Bid_value`, `Winner`, `Collusive_competitor`,
optionally `Date` (any sortable value: year, day number, ISO date), `Competitors` (firm
id) and `Bid_value_without_inflation` (the price as tendered, before deflation).

Output: a landing zone with weekly trading-centre batches (entities, tenders, bids,
awards, contracts) and approval batches (one approved project per lot), which the loader
takes like any delivery. What the conversion decides, and why:

- Prices are multiplied by a power of ten only: ratios within a lot stay exact and the
  rounding grain of the tendered prices is kept (a grain of 0.05 CHF becomes 0.5 yuan,
  never 0.01), because the grain is part of what the price rules must cope with. Float
  artefacts of the published files (0.0782999999999999) are snapped to the grain of the
  file; a file without a decimal grain is scaled and rounded to the fen (said in notes).
- Lot dates follow the file's `Date` order (else the tender order), spread over the
  working days of 2025, so that year-based populations hold the whole market.
- Firms are kept when named (`Competitors`); otherwise every bid gets its own anonymous
  firm, and co-bidding networks cannot be measured on that market (said in notes).
- Facts the data does not have are delivered in their compliant form (an approved
  project before the announcement, a 30-day bid period, contract signed at the award
  price 7 days after the award, publicity on the award day, one purchaser per lot), so
  closed-loop, time-limit, split-lot and credit rules judge nothing the data lacks.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ggzy.feeds import contract as c
from ggzy.feeds.manifest import write_manifest
from ggzy.feeds.synth import make_uscc

REQUIRED = ("Tender", "Bid_value", "Winner", "Collusive_competitor")
# first present wins: the price as tendered keeps its rounding grain (a deflated price does not)
PRICE_COLUMNS = ("Bid_value_without_inflation", "Bid_value")
TARGET_MEDIAN = Decimal(100_000)  # yuan: the median lot price is scaled to at least this
MAX_DECIMALS = 6  # more digits than this after the point is a float artefact or a continuous price
YEAR = 2025
REGION = "530102"  # one county of Kunming: one market = one population of the price screens
CADENCES = (28, 14, 7)  # days between batches, longest first (see batch_cadence)
FIRST_BATCH = dt.date(YEAR, 1, 17)  # a Friday: the first delivery holds the lots of 1-7 January
TRUE_VALUES, FALSE_VALUES = {"1", "1.0", "true", "True"}, {"0", "0.0", "false", "False", ""}


class InputError(ValueError):
    """A row of the labelled table breaks a rule; the message names file, line and rule."""

    def __init__(self, path: Path, line: int, rule: str, detail: str) -> None:
        self.path, self.line, self.rule = path, line, rule
        super().__init__(f"{path}: line {line}: {rule}: {detail}")


@dataclass
class SourceBid:
    line: int
    tender: str
    price: Decimal
    winner: bool
    collusive: bool
    firm: str | None
    order: str | None


@dataclass
class Lot:
    """One converted lot and what the evaluation needs to know about it."""

    tender_id: str
    source_tender: str
    collusive: bool
    prices: list[float]  # as delivered (yuan)

    def neg_cv(self, ddof: int = 0) -> float | None:
        """−CV, the textbook screen (low spread is suspicious): sd / mean of the lot's bids,
        population sd (ddof 0) or sample sd (ddof 1, as the published data sets compute it)."""
        n = len(self.prices)
        mean = sum(self.prices) / n if n else 0.0
        if n < 2 or mean <= 0:
            return None
        sd = math.sqrt(sum((p - mean) ** 2 for p in self.prices) / (n - ddof))
        return -sd / mean


@dataclass
class Conversion:
    name: str
    source: Path
    landing: Path
    price_column: str
    firms_named: bool
    scale_exponent: int
    decimals: int | None  # decimals of the tendered prices; None = no decimal grain
    lots: list[Lot]
    batch_dates: list[dt.date]
    notes: list[str] = field(default_factory=list)


def _bool(path: Path, line: int, column: str, value: str) -> bool:
    v = (value or "").strip()
    if v in TRUE_VALUES:
        return True
    if v in FALSE_VALUES:
        return False
    raise InputError(path, line, "label_not_0_1", f"{column} = {value!r}, expected 0 or 1")


def _order_key(value: str | None) -> tuple:
    if value is None or not value.strip():
        return (1, 0.0, "")
    try:
        return (0, float(value), "")
    except ValueError:
        return (0, 0.0, value.strip())


def read_table(path: Path) -> tuple[list[SourceBid], str]:
    """Read and check the labelled table; returns the bids and the price column used."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(path, 0, "file_unreadable", str(e)) from e
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise InputError(path, line, "not_utf8", f"byte {data[e.start]:#04x} is not UTF-8 (expected a UTF-8 CSV)") from e
    with io.StringIO(text, newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [col for col in REQUIRED if col not in header]
        if missing:
            raise InputError(path, 1, "missing_column", f"no column {', '.join(missing)} (header: {header})")
        price_col = next(col for col in PRICE_COLUMNS if col in header)
        bids: list[SourceBid] = []
        try:
            for row in reader:
                line = reader.line_num
                tender = (row.get("Tender") or "").strip()
                if not tender:
                    raise InputError(path, line, "tender_missing", "empty Tender")
                text = (row.get(price_col) or "").strip()
                try:
                    price = Decimal(text)
                except InvalidOperation:
                    raise InputError(path, line, "price_not_a_number", f"{price_col} = {text!r}") from None
                if not price.is_finite() or price <= 0:
                    raise InputError(path, line, "price_not_positive", f"{price_col} = {text!r}")
                firm = (row.get("Competitors") or "").strip() or None
                bids.append(SourceBid(line, tender, price,
                                      _bool(path, line, "Winner", row.get("Winner") or ""),
                                      _bool(path, line, "Collusive_competitor", row.get("Collusive_competitor") or ""),
                                      firm, row.get("Date")))
        except csv.Error as e:
            raise InputError(path, reader.line_num, "csv_syntax", str(e)) from e
    if not bids:
        raise InputError(path, 1, "no_rows", "the table has a header but no bids")
    return bids, price_col


def _snap(price: Decimal) -> tuple[Decimal, int | None, bool]:
    """(price, its decimals, snapped?): a float artefact is snapped to the fewest decimals
    within 1e-9 of it; None = no decimal grain at all."""
    decimals = max(-price.normalize().as_tuple().exponent, 0)
    if decimals <= MAX_DECIMALS:
        return price, decimals, False
    for d in range(MAX_DECIMALS + 1):
        r = round(price, d)
        if abs(price - r) <= abs(price) * Decimal("1e-9"):
            return r, d, True
    return price, None, False


def scale_prices(prices: list[Decimal]) -> tuple[list[Decimal], int, int | None, int]:
    """Multiply by 10**k (k the smallest power keeping ≤ 2 decimals and a median of at
    least TARGET_MEDIAN yuan). Returns (scaled, k, decimals of the file, n snapped)."""
    snapped = [_snap(p) for p in prices]
    grains = [d for _, d, _ in snapped]
    decimals = None if any(d is None for d in grains) else max(grains)
    values = [p for p, _, _ in snapped]
    median = sorted(values)[len(values) // 2]
    k_level = math.ceil(math.log10(TARGET_MEDIAN / median))
    k = k_level if decimals is None else max(decimals - 2, k_level)
    factor = Decimal(10) ** k
    cent = Decimal("0.01")
    scaled = [(p * factor).quantize(cent) for p in values]
    return scaled, k, decimals, sum(1 for _, _, s in snapped if s)


def common_grain(prices: list[Decimal], share: float = 0.9) -> str:
    """The coarsest 1/2/5 x 10^j yuan step that at least `share` of the prices are multiples of."""
    for j in range(9, -3, -1):
        for m in (5, 2, 1):
            step = Decimal(m) * Decimal(10) ** j
            on = sum(1 for p in prices if p % step == 0) / len(prices)
            if on >= share:
                return f"{on:.0%} of the prices on a grain of {step.normalize():f} yuan"
    return "prices on the fen"


def _weekdays(year: int) -> list[dt.date]:
    d, out = dt.date(year, 1, 1), []
    while d.year == year:
        if d.weekday() < 5:
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def _batch_date(deadline: dt.date, every_days: int) -> dt.date:
    """Records of a lot are delivered in the first batch after its contract (deadline + 10
    days); the first batch is on FIRST_BATCH, then one every `every_days` days."""
    d = deadline + dt.timedelta(days=10)
    periods = max(0, -(-(d - FIRST_BATCH).days // every_days))
    return FIRST_BATCH + dt.timedelta(days=periods * every_days)


def _within_row_band(rows_by_day: dict[dt.date, int]) -> bool:
    """The GX gate's row-count band, as ggzy.quality._row_band sets it: a batch may hold up
    to max(1000, 5 x the largest batch of the 30 days before it); kept with a 10 % margin."""
    for day, n in rows_by_day.items():
        recent = [m for d, m in rows_by_day.items() if day - dt.timedelta(days=30) <= d < day]
        if n > 0.9 * max(1000, 5 * max(recent, default=0)):
            return False
    return True


def batch_cadence(lots: list[list[SourceBid]], deadlines: list[dt.date], firms_named: bool) -> int:
    """The longest cadence (28, 14 or 7 days) whose batches pass the gate's row band. Why not
    daily: the GX gate costs seconds per batch date. Why the band matters: a month of a whole
    market delivered as a feed's first batch would fail the gate, as it should."""
    for every in CADENCES:
        bids: dict[dt.date, int] = {}
        entities: dict[dt.date, int] = {}
        seen: set[str] = set()
        for src, deadline in zip(lots, deadlines, strict=True):
            day = _batch_date(deadline, every)
            bids[day] = bids.get(day, 0) + len(src)
            new = len(src) if not firms_named else len({b.firm for b in src if b.firm not in seen})
            seen.update(b.firm for b in src if b.firm)
            entities[day] = entities.get(day, 0) + 1 + new
        if _within_row_band(bids) and _within_row_band(entities):
            return every
    return CADENCES[-1]


def _ts(day: dt.date, hh: int, mm: int = 0, ss: int = 0) -> str:
    return dt.datetime.combine(day, dt.time(hh, mm, ss)).isoformat() + "+08:00"


def _submitted(deadline: dt.date, i: int) -> str:
    """Bids arrive before the 09:30 deadline, 30 seconds apart (no rule judges the time)."""
    t = dt.datetime.combine(deadline, dt.time(9, 0)) - dt.timedelta(seconds=30 * i)
    return t.isoformat() + "+08:00"


def _uscc(seed: str, taken: set[str]) -> str:
    rng = random.Random(seed)
    while True:
        code = make_uscc(rng, REGION)
        if code not in taken:
            taken.add(code)
            return code


def slug(path: Path) -> str:
    """A short lowercase name for a data set (database and table labels)."""
    stem = Path(path).stem.lower()
    for junk in ("db_collusion_", "_processed"):
        stem = stem.replace(junk, "")
    name = "".join(ch if ch.isalnum() else "_" for ch in stem).strip("_")
    return (name or "market")[:40]


class _Batches:
    """Rows of each (feed, file, batch date), written in the contract's column order."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, dt.date], list[dict[str, str]]] = {}

    def add(self, feed: str, name: str, day: dt.date, row: dict[str, str]) -> None:
        self.rows.setdefault((feed, name, day), []).append(row)

    def write(self, landing: Path) -> list[dt.date]:
        folders: set[tuple[str, dt.date]] = set()
        for (feed, name, day), rows in sorted(self.rows.items()):
            ff = c.feed_file(feed, name)
            folder = Path(landing) / feed / day.isoformat()
            folder.mkdir(parents=True, exist_ok=True)
            if ff.fmt == c.JSONL:
                with open(folder / ff.name, "w", encoding="utf-8", newline="\n") as fh:
                    for row in rows:
                        fh.write(json.dumps({col: row.get(col) or None for col in ff.column_names},
                                            ensure_ascii=False) + "\n")
            else:
                with open(folder / ff.name, "w", encoding="utf-8", newline="") as fh:
                    w = csv.writer(fh)
                    w.writerow(ff.column_names)
                    w.writerows([row.get(col, "") for col in ff.column_names] for row in rows)
            folders.add((feed, day))
        for feed, day in sorted(folders):
            write_manifest(Path(landing) / feed / day.isoformat(), feed, day)
        return sorted({day for _, day in folders})


def _lots_in_order(bids: Iterable[SourceBid]) -> list[list[SourceBid]]:
    by_tender: dict[str, list[SourceBid]] = {}
    for b in bids:
        by_tender.setdefault(b.tender, []).append(b)
    return sorted(by_tender.values(), key=lambda lot: (_order_key(lot[0].order), lot[0].line))


def convert(path: Path, landing: Path, name: str | None = None, every_days: int | None = None) -> Conversion:
    """Write the landing zone for one labelled table; returns what the evaluation needs."""
    bids, price_col = read_table(path)
    name = name or slug(path)
    scaled, k, decimals, n_snapped = scale_prices([b.price for b in bids])
    if max(scaled) >= Decimal(c.BIG):
        raise InputError(Path(path), 0, "price_absurd", f"scaled prices reach {max(scaled)} yuan")
    price_of = {id(b): p for b, p in zip(bids, scaled, strict=True)}
    firms_named = all(b.firm for b in bids)
    code = hashlib.sha1(name.encode()).hexdigest()[:4].upper()
    days = _weekdays(YEAR)
    lots_src = _lots_in_order(bids)
    deadlines = [days[i * len(days) // len(lots_src)] for i in range(len(lots_src))]
    every_days = every_days or batch_cadence(lots_src, deadlines, firms_named)
    out = _Batches()
    taken: set[str] = set()
    firm_ids: dict[str, str] = {}
    lots: list[Lot] = []
    for seq, (src, deadline) in enumerate(zip(lots_src, deadlines, strict=True), start=1):
        day = _batch_date(deadline, every_days)
        updated = _ts(day, 18)
        tender_id = f"RD{code}{seq:06d}"
        tenderer = _uscc(f"{name}/tenderer/{seq}", taken)
        project_code = f"{YEAR}-{REGION}-48-01-{seq:06d}"
        out.add("trading_centre", "entities.csv", day, {
            "entity_id": tenderer, "entity_name": f"招标人{code}-{seq:06d}", "entity_role": "tenderer",
            "region_code": REGION, "established_on": "2010-01-01", "updated_at": updated})
        out.add("approval", "projects.jsonl", day, {
            "project_code": project_code, "project_name": f"评估项目{code}-{seq:06d}", "owner_id": tenderer,
            "region_code": REGION, "industry": "transport", "approval_type": "approval",
            "approved_at": _ts(deadline - dt.timedelta(days=60), 10), "funding_source": "government",
            "updated_at": updated})
        winners = sorted((b for b in src if b.winner), key=lambda b: price_of[id(b)])
        out.add("trading_centre", "tenders.csv", day, {
            "tender_id": tender_id, "project_code": project_code, "tender_name": f"真实数据评估{name}标段{src[0].tender}",
            "category": "construction", "industry": "transport", "region_code": REGION, "tenderer_id": tenderer,
            "procurement_method": "open", "announced_at": _ts(deadline - dt.timedelta(days=30), 9),
            "bid_deadline": _ts(deadline, 9, 30), "opened_at": _ts(deadline, 9, 30),
            "evaluation_method": "lowest_price", "evaluation_separated": "false", "remote_evaluation": "false",
            "host_site": REGION, "status": "awarded" if winners else "opened", "updated_at": updated})
        bidder_of: dict[int, str] = {}
        for i, b in enumerate(src, start=1):
            key = f"named/{b.firm}" if firms_named else f"anonymous/{seq}/{i}"
            if key not in firm_ids:
                firm_ids[key] = _uscc(f"{name}/{key}", taken)
                out.add("trading_centre", "entities.csv", day, {
                    "entity_id": firm_ids[key], "entity_name": f"投标人{code}-{len(firm_ids):06d}",
                    "entity_role": "bidder", "region_code": REGION, "established_on": "2010-01-01",
                    "updated_at": updated})
            bidder_of[id(b)] = firm_ids[key]
            out.add("trading_centre", "bids.csv", day, {
                "bid_id": f"{tender_id}-{i:03d}", "tender_id": tender_id, "bidder_id": firm_ids[key],
                "bid_price": str(price_of[id(b)]), "submitted_at": _submitted(deadline, i),
                "is_valid": "true", "updated_at": updated})
        if winners:
            w = winners[0]
            award_day = deadline + dt.timedelta(days=2)
            out.add("trading_centre", "awards.csv", day, {
                "tender_id": tender_id, "winner_id": bidder_of[id(w)], "award_price": str(price_of[id(w)]),
                "awarded_at": _ts(award_day, 10), "publicity_start": award_day.isoformat(),
                "publicity_end": (award_day + dt.timedelta(days=3)).isoformat(), "updated_at": updated})
            out.add("trading_centre", "contracts.csv", day, {
                "contract_id": f"{tender_id}-C", "tender_id": tender_id, "winner_id": bidder_of[id(w)],
                "contract_amount": str(price_of[id(w)]), "signed_at": _ts(award_day + dt.timedelta(days=7), 10),
                "updated_at": updated})
        lots.append(Lot(tender_id, src[0].tender, any(b.collusive for b in src),
                        [float(price_of[id(b)]) for b in src]))
    batch_dates = out.write(landing)
    notes = [f"prices from column {price_col} x 10^{k}: "
             + (f"tendered with up to {decimals} decimals" if decimals is not None
                else "no decimal grain in the file, rounded to 0.01 yuan")
             + (f" ({n_snapped} float artefacts snapped to it)" if n_snapped else "")
             + "; " + common_grain(scaled)]
    if not firms_named:
        notes.append("firms not named (no Competitors): one anonymous firm per bid; "
                     "co-bidding and rotation networks cannot be measured on this market")
    return Conversion(name, Path(path), Path(landing), price_col, firms_named, k, decimals, lots,
                      batch_dates, notes)
