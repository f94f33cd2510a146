"""Superset for real: the setup imports dashboards/ into a fresh Superset against a
real warehouse with generated data, every chart's query runs through Superset's
API, a dashboard filter changes the numbers, a second setup is quick, stop stops.

Runs the Superset virtualenv by subprocess (it cannot share the pipeline's venv).
Skipped only when .venv-superset is absent.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.superset

REPO = Path(__file__).resolve().parents[2]
SPY = REPO / ".venv-superset" / "bin" / "python"
DAY = dt.date(2026, 3, 31)
HISTORY_FROM = DAY - dt.timedelta(days=40)

if not SPY.exists():
    pytest.skip(".venv-superset is absent (make venvs creates it)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def marts(warehouse_url, tmp_path_factory):
    """Generated batches loaded and dbt run, in a database of its own on the session's
    server (so other tests' counts are not disturbed): marts with rows."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    from ggzy import schema
    from ggzy.feeds.load import load_range
    from ggzy.generator import generate
    from ggzy.transform import run_dbt

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = 'ggzy_superset_test'").fetchone():
            conn.execute("create database ggzy_superset_test")
    parts = urlsplit(warehouse_url)
    warehouse_url = urlunsplit((*parts[:2], "/ggzy_superset_test", *parts[3:]))
    schema.bootstrap(warehouse_url)
    landing = tmp_path_factory.mktemp("landing")
    generate(landing, HISTORY_FROM, DAY, scale=0.03, seed=8)
    load_range(landing, HISTORY_FROM, DAY, url=warehouse_url)
    target = tmp_path_factory.mktemp("dbt-target")
    saved = {k: os.environ.get(k) for k in ("DBT_TARGET_PATH", "DBT_LOG_PATH")}
    os.environ["DBT_TARGET_PATH"] = str(target)
    os.environ["DBT_LOG_PATH"] = str(target / "logs")
    try:
        # seeds and models in one invocation (one parse); the data tests are other tests' business
        run_dbt(["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"], url=warehouse_url)
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    return warehouse_url


@pytest.fixture(scope="module")
def superset(marts, tmp_path_factory):
    home = tmp_path_factory.mktemp("superset-home")
    port = free_port()
    env = {**os.environ, "GGZY_HOME": str(home), "GGZY_SUPERSET_PORT": str(port), "PYTHONPATH": str(REPO / "plugins"),
           "GGZY_WAREHOUSE_URL_FOR_SUPERSET": marts, "GGZY_SUPERSET_WORKERS": "1"}
    env.pop("SUPERSET_SECRET_KEY", None)

    def run(module: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([str(SPY), "-m", f"ggzy_superset.{module}", *args], env=env, cwd=REPO,
                              capture_output=True, text=True, timeout=timeout)

    t = time.time()
    first = run("setup", "--port", str(port))
    assert first.returncode == 0, first.stdout + first.stderr
    info = {"run": run, "home": home, "port": port, "first": first, "first_seconds": time.time() - t}
    yield info
    run("stop")


DASHBOARDS = len(list((REPO / "dashboards" / "dashboards").glob("*.yaml")))  # as committed


def test_setup_imports_every_dashboard(superset):
    out = superset["first"].stdout
    assert DASHBOARDS >= 10 and f"imported {DASHBOARDS} dashboards" in out, out
    assert "XXXXXXXXXX" in out  # the log shows the URL without its password


def test_every_chart_queries_without_error_and_the_filter_changes_the_numbers(superset, tmp_path):
    report = tmp_path / "check.json"
    res = superset["run"]("check", "--port", str(superset["port"]), "--errors-only", "--json", str(report))
    assert res.returncode == 0, res.stdout + res.stderr
    data = json.loads(report.read_text())
    charts = [c for d in data["dashboards"] for c in d["charts"]]
    assert len(data["dashboards"]) == DASHBOARDS and len(charts) >= 100
    assert not [c for c in charts if c.get("error") and c["error"] not in ("no rows", "only null values")]
    overview = next(d for d in data["dashboards"] if d["slug"] == "overview")
    assert all(c["rows"] > 0 and not c.get("note") for c in overview["charts"]), overview["charts"]
    effects = {fe["filter"]: fe for fe in overview["filter_effect"]}
    assert effects["州市"]["ok"] and effects["州市"]["before"] != effects["州市"]["after"]


def test_export_of_the_import_reproduces_the_committed_yaml(superset, tmp_path):
    """What people commit after editing in the UI (export) has the same form as what is imported."""
    import filecmp
    import shutil

    out = tmp_path / "dashboards"
    shutil.copytree(REPO / "dashboards", out)
    res = superset["run"]("export", "--port", str(superset["port"]), "--out", str(out))
    assert res.returncode == 0, res.stdout + res.stderr
    differ = []
    for p in (REPO / "dashboards").rglob("*.yaml"):
        if not filecmp.cmp(p, out / p.relative_to(REPO / "dashboards"), shallow=False):
            differ.append(str(p.relative_to(REPO)))
    new = sorted(str(p.relative_to(out)) for p in out.rglob("*.yaml") if not (REPO / "dashboards" / p.relative_to(out)).exists())
    assert differ == [] and new == []


def test_second_setup_is_quick_and_changes_nothing(superset):
    t = time.time()
    again = superset["run"]("setup", "--port", str(superset["port"]))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "metadata DB up to date" in again.stdout and "dashboards up to date" in again.stdout
    assert time.time() - t < 30


def test_secret_key_is_generated_once_and_kept(superset):
    key = superset["home"] / "superset" / "secret_key"
    assert key.exists() and oct(key.stat().st_mode & 0o777) == "0o600"
    assert len(key.read_text().strip()) >= 32


def test_stop_stops_the_server(superset):
    state = json.loads((superset["home"] / "superset" / "server.json").read_text())
    res = superset["run"]("stop")
    assert res.returncode == 0 and f"stopped pid {state['pid']}" in res.stdout
    assert not (superset["home"] / "superset" / "server.json").exists()
    with pytest.raises(ProcessLookupError):
        for _ in range(50):
            os.kill(state["pid"], 0)
            time.sleep(0.2)
