"""A warehouse of its own for the risk tests: generate -> load -> dbt build at a small scale.

Own server (tmp GGZY_HOME, port 55604 or the next free one) so that the rules are measured on
exactly one generated landing zone, whatever other test modules load into the shared one.
The process environment is only pointed at it while it starts and stops; everything else
passes the URL explicitly.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GGZY = str(Path(sys.executable).with_name("ggzy"))
FROM, TO, SCALE = "2026-01-01", "2026-02-28", "0.05"


def _port(preferred: int = 55604) -> int:
    for port in range(preferred, preferred + 50):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port near 55604")


@contextmanager
def _env(**values: str):
    saved = {k: os.environ.get(k) for k in (*values, "GGZY_WAREHOUSE_URL")}
    os.environ.pop("GGZY_WAREHOUSE_URL", None)
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def risk_env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("ggzy-risk")
    env = {"GGZY_HOME": str(home), "GGZY_PG_PORT": str(_port()), "GGZY_LANDING": str(home / "landing")}
    return env


@pytest.fixture(scope="session")
def risk_warehouse(risk_env) -> dict[str, str]:
    """Started and loaded warehouse: {'url', 'landing', 'env'}."""
    from ggzy import schema, warehouse

    with _env(**risk_env):
        url = warehouse.start()
        schema.bootstrap(url)
    env = {k: v for k, v in os.environ.items() if k != "GGZY_WAREHOUSE_URL"} | risk_env
    landing = risk_env["GGZY_LANDING"]

    def run(*args: str) -> None:
        subprocess.run([GGZY, *args], env=env, check=True, cwd=REPO, stdout=subprocess.DEVNULL)

    run("generate", "--landing", landing, "--from", FROM, "--to", TO, "--scale", SCALE)
    run("load", "--landing", landing, "--from", FROM, "--to", TO)
    run("dbt", "build", "-s", "+path:models/marts/risk", "--exclude-resource-type", "test",
        "--exclude-resource-type", "unit_test")
    yield {"url": url, "landing": landing, "env": env}
    with _env(**risk_env):
        warehouse.stop()


@pytest.fixture()
def dbt_run(risk_warehouse):
    """Rebuild some models (e.g. after recording alert outcomes)."""
    def run(*select: str) -> None:
        subprocess.run([GGZY, "dbt", "run", "-s", *select], env=risk_warehouse["env"], check=True, cwd=REPO,
                       stdout=subprocess.DEVNULL)
    return run
