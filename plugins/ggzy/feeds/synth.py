"""Synthetic, contract-valid landing batches for benchmarks and smoke tests.

The real demo data come from `ggzy.generator` (with ground truth and injected
anomalies). This module only exists so the loader can be measured and smoke-tested
without it: it fills every contract column with a plausible valid value of its
kind, fast, deterministically from a seed. It never injects bad rows.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from stdnum.cn import ric, uscc

from ggzy.feeds import contract as c
from ggzy.feeds.manifest import write_manifest

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_HANZI = "云南昆明曲靖玉溪保山昭通丽江普洱临沧楚雄红河文山大理德宏怒江迪庆建设工程交通水利有限公司集团股份科技贸易"
CST = timezone(timedelta(hours=8))


def make_uscc(rng: random.Random, region: str = "530100") -> str:
    body = "91" + region + "".join(rng.choice(_USCC_ALPHABET) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def make_id_no(rng: random.Random, region: str = "530102") -> str:
    born = date(1960, 1, 1) + timedelta(days=rng.randrange(40 * 365))
    body = region + born.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


class _Values:
    """Pools of identifiers so keys repeat the way they do in real feeds."""

    def __init__(self, rng: random.Random, batch_date: date) -> None:
        self.rng = rng
        self.day = batch_date
        regions = list(c.YUNNAN_PREFECTURES)
        self.regions = regions
        self.usccs = [make_uscc(rng, rng.choice(regions)) for _ in range(500)]
        self.ids = [make_id_no(rng) for _ in range(500)]

    def text(self, name: str, i: int) -> str:
        if name.endswith("_id") or name.endswith("_no") or name.endswith("_serial") or name.endswith("_code"):
            return f"{name[:2].upper()}{self.day:%Y%m%d}{i:07d}"
        return "".join(self.rng.choice(_HANZI) for _ in range(self.rng.randint(2, 12)))

    def value(self, col: c.Column, i: int) -> str:
        rng = self.rng
        k = col.kind
        if k == c.USCC:
            return rng.choice(self.usccs)
        if k == c.ID_NO:
            return rng.choice(self.ids)
        if k == c.PARTY_ID:
            return rng.choice(self.usccs if rng.random() < 0.5 else self.ids)
        if k == c.REGION:
            return rng.choice(self.regions)
        if k == c.REGION_LIST:
            return ";".join(rng.sample(self.regions, 2))
        if k == c.PROJECT_CODE:
            return f"{self.day.year}-{rng.choice(self.regions)}-{rng.randint(1, 99):02d}-{rng.randint(1, 3):02d}-{i % 999999:06d}"
        if k in (c.ENUM, c.ENUM_LIST):
            return rng.choice(col.values)
        if k == c.DATE:
            return (self.day - timedelta(days=rng.randrange(400))).isoformat()
        if k == c.TIMESTAMP:
            t = datetime.combine(self.day, time(), CST) - timedelta(seconds=rng.randrange(86400 * 30))
            return t.isoformat()
        if k == c.MONEY:
            return f"{rng.randrange(10_000, 500_000_000) / 100:.2f}"
        if k == c.NUMBER:
            return f"{rng.randrange(0, 1000) / 10:.1f}"
        if k == c.INTEGER:
            return str(rng.randrange(0, 3000))
        if k == c.BOOL:
            return rng.choice(("true", "false"))
        return self.text(col.name, i)


def write_file(path: Path, ff: c.FeedFile, rows: int, values: _Values) -> None:
    """Write `rows` valid rows of one contract file in its delivery format."""
    names = ff.column_names
    if ff.fmt == c.JSONL:
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            for i in range(rows):
                fh.write(json.dumps({col.name: values.value(col, i) for col in ff.columns}, ensure_ascii=False))
                fh.write("\n")
        return
    enc = "gb18030" if ff.fmt == c.CSV_GB18030 else "utf-8"
    with open(path, "w", encoding=enc, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        for i in range(rows):
            w.writerow([values.value(col, i) for col in ff.columns])


def write_batch(landing: Path, feed: str, batch_date: date, rows: int | dict[str, int], seed: int = 1) -> Path:
    """Write one complete batch folder (files + manifest.json); returns the folder."""
    rng = random.Random(f"{seed}/{feed}/{batch_date}")
    values = _Values(rng, batch_date)
    folder = Path(landing) / feed / batch_date.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for ff in c.files_of(feed):
        n = rows.get(ff.name, rows.get(ff.stem, 0)) if isinstance(rows, dict) else rows
        write_file(folder / ff.name, ff, n, values)
    write_manifest(folder, feed, batch_date)
    return folder
