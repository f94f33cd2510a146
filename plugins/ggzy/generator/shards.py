"""Scale above 1 as shards: independent smaller worlds of the same province, one after another.

Why: a world is lived through whole before it is cut into days (world.py), so what it keeps
grows with the scale (~58 MB a scale unit: ~1.9 GB at 32). Scale s > 1 is therefore
generated as k = ceil(s) shards, each a world of scale s/k (at most 1), simulated in turn
and forgotten before the next, so the peak is one shard's world whatever s is.

- A shard has its own seed, drawn from (seed, shard number); with one shard (scale <= 1)
  the seed and every draw are those of the unsharded generator, byte for byte.
- Shards share the province (prefectures, counties, categories, departments, calendar) but
  no identifier: counted ones (tender and project-code serials, expert numbers, complaints,
  cases, credit records, rings) take every k-th number from the shard's number on
  (World.serial); drawn ones (USCCs, resident ID numbers, phones, MACs, IPs, certificates,
  bond accounts, company names) are kept only when their hash falls in the shard's share
  (World.owns), so check digits stay valid and values distinct across shards. The
  province's own bodies (county bureaus, schools, hospitals, city investment companies:
  the tenderers) are split among the shards, each existing once.
- Every shard writes the same batch files, appending its rows after the earlier shards'
  (writer.Part carries each file's row count and running sha256, so the line numbers of
  bad rows go on and the manifests, written with the last shard, cover the whole file).
- Ground truth is the union: each shard's lists sorted and spilled here, merged at the end.
"""

from __future__ import annotations

import heapq
import marshal
import math
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ggzy.generator.model import stream


def shard_count(scale: float) -> int:
    """How many shards a scale is generated in: one up to 1, else ceil(scale) (each at most 1)."""
    return 1 if scale <= 1 else math.ceil(scale)


def shard_seed(seed: int, shard: int, shards: int) -> int:
    """The seed of shard `shard` of `shards`: the seed itself when there is one shard."""
    return seed if shards == 1 else int(stream(seed, f"shard:{shard}").integers(0, 2**31))


class SortedSpill:
    """Rows of each ground-truth file, added a shard at a time (already sorted) to unnamed
    temporary files (marshal, one tuple after another), read back merged in order."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.parts: dict[str, list[IO[bytes]]] = defaultdict(list)

    def add(self, lists: dict[str, list[tuple]]) -> None:
        for name, rows in lists.items():
            fh = tempfile.TemporaryFile(dir=self.folder)  # gone when closed or on exit
            for row in rows:
                marshal.dump(row, fh)
            self.parts[name].append(fh)

    def merged(self, name: str, distinct: bool = False) -> Iterator[tuple]:
        """The file's rows of every shard, in order (each distinct row once if `distinct`)."""
        last = None
        for row in heapq.merge(*(self._read(fh) for fh in self.parts[name])):
            if not (distinct and row == last):
                yield row
            last = row

    @staticmethod
    def _read(fh: IO[bytes]) -> Iterator[tuple]:
        fh.seek(0)
        while True:
            try:
                yield marshal.load(fh)
            except EOFError:
                return

    def close(self) -> None:
        for parts in self.parts.values():
            for fh in parts:
                fh.close()
