"""The code keeps the project's style (what `make lint` checks), so that it stays
readable as the style guide asks: ruff on the Python, sqlfluff on the dbt models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_python_passes_ruff():
    proc = subprocess.run([str(BIN / "ruff"), "check", "plugins", "dags", "tests", "tools"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_dbt_models_pass_sqlfluff(warehouse_url, tmp_path):
    from ggzy.transform import dbt_env

    env = dbt_env(warehouse_url)  # the dbt templater compiles the project against a live warehouse
    env.update(DBT_TARGET_PATH=str(tmp_path / "target"), DBT_LOG_PATH=str(tmp_path / "logs"))
    proc = subprocess.run([str(BIN / "sqlfluff"), "lint", "models"], cwd=ROOT / "dbt_project", env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
