"""Every dbt unit test runs, by its own selection (`test_type:unit`), on empty inputs.

The unit tests of the risk rules, time limits, closed loop and disclosure used to run only
because other fixtures happened to build their models; this test selects them on purpose
and fails when the number that ran is not the number the YAML defines, so a narrowed
selector or a unit test dbt stopped picking up cannot drop them silently.
"""

from __future__ import annotations

import json
import subprocess

import yaml

from ggzy import config
from ggzy.transform import dbt_command, dbt_env


def defined_unit_tests() -> set[str]:
    names = set()
    for path in (config.dbt_project_dir() / "models").rglob("*.yml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for test in doc.get("unit_tests") or []:
            names.add(f"{test['model']}::{test['name']}")
    return names


def dbt(args: list[str], url: str, target) -> subprocess.CompletedProcess:
    env = dbt_env(url) | {"DBT_TARGET_PATH": str(target), "DBT_LOG_PATH": str(target / "logs")}
    return subprocess.run([*dbt_command(), *args], cwd=config.dbt_project_dir(), env=env,
                          capture_output=True, text=True)


def test_every_dbt_unit_test_runs_and_passes(warehouse_url, tmp_path):
    defined = defined_unit_tests()
    assert len(defined) >= 40, "the project's unit tests were not found in models/**.yml"

    # Unit tests read their inputs' column types from the warehouse: seeds and every model
    # built empty (`--empty`: the schema without rows) are enough, and take seconds.
    for step in (["seed"], ["run", "--empty"]):
        proc = dbt(step, warehouse_url, tmp_path)
        assert proc.returncode == 0, proc.stdout[-3000:]

    proc = dbt(["test", "--select", "test_type:unit"], warehouse_url, tmp_path)
    results = json.loads((tmp_path / "run_results.json").read_text())["results"]
    unit = [r for r in results if r["unique_id"].startswith("unit_test.")]
    ran = {r["unique_id"] for r in unit}
    failed = sorted(r["unique_id"] for r in unit if r["status"] != "pass")
    assert not failed, f"unit tests failed: {failed}\n{proc.stdout[-3000:]}"
    assert proc.returncode == 0, proc.stdout[-3000:]
    ran_names = {"::".join(uid.split(".")[-2:]) for uid in ran}
    assert ran_names == defined, f"defined but not run: {sorted(defined - ran_names)}"
