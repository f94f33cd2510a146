"""Environment variables set for a block only: the one way the tests point ggzy elsewhere.

Several fixtures start or pick a warehouse of their own (GGZY_HOME, GGZY_PG_PORT,
GGZY_WAREHOUSE_URL ...) and must give the process environment back exactly as they found
it, so the rest of the session never sees their server. pytest's MonkeyPatch does the
bookkeeping; a value of None means "unset for the block".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest


@contextmanager
def environ(values: Mapping[str, str | None] | None = None, /, **more: str | None) -> Iterator[None]:
    """Set (a string) or unset (None) each variable for the block; restore all on exit."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {**(values or {}), **more}.items():
            if value is None:
                mp.delenv(name, raising=False)
            else:
                mp.setenv(name, value)
        yield
