"""A warehouse of its own for the risk tests: generate -> load -> dbt build at a small scale.

A database of its own on the session's server (and a GGZY_HOME of its own), so that the
rules are measured on exactly one generated landing zone, whatever other test modules load
into the shared one. `ggzy` commands run as subprocesses with GGZY_WAREHOUSE_URL pointing
at it, as a user would run them.

Not shared with tests/supervision's warehouse (tried): these tests assert on the marts of
risk alone (sync raises one alert per risk signal; supervision adds watch-list signals)
and on the screens' ranking of this landing zone (January-February 2026).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from databases import own_database

REPO = Path(__file__).resolve().parents[2]
GGZY = str(Path(sys.executable).with_name("ggzy"))
FROM, TO, SCALE = "2026-01-01", "2026-02-28", "0.05"


@pytest.fixture(scope="session")
def risk_warehouse(warehouse_url, tmp_path_factory) -> dict[str, str]:
    """Loaded and built warehouse: {'url', 'landing', 'env'}."""
    url = own_database(warehouse_url, "ggzy_risk_test")
    home = tmp_path_factory.mktemp("ggzy-risk")
    landing = str(home / "landing")
    env = os.environ | {"GGZY_HOME": str(home), "GGZY_WAREHOUSE_URL": url, "GGZY_LANDING": landing}

    def run(*args: str) -> None:
        subprocess.run([GGZY, *args], env=env, check=True, cwd=REPO, stdout=subprocess.DEVNULL)

    run("generate", "--landing", landing, "--from", FROM, "--to", TO, "--scale", SCALE)
    run("load", "--landing", landing, "--from", FROM, "--to", TO)
    run("dbt", "build", "-s", "+path:models/marts/risk", "--exclude-resource-type", "test",
        "--exclude-resource-type", "unit_test")
    return {"url": url, "landing": landing, "env": env}


@pytest.fixture(scope="session")
def dbt_run(risk_warehouse):
    """Rebuild some models (e.g. after recording alert outcomes)."""
    def run(*select: str) -> None:
        subprocess.run([GGZY, "dbt", "run", "-s", *select], env=risk_warehouse["env"], check=True, cwd=REPO,
                       stdout=subprocess.DEVNULL)
    return run
