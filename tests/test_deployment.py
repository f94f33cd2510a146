"""The deployment descriptor is valid and keeps secrets out of git."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian package docker-compose not installed")
def test_compose_file_is_valid(tmp_path):
    for name in ("docker-compose.yml", ".env.example"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copy(REPO / ".env.example", tmp_path / ".env")
    out = subprocess.run(["docker-compose", "config"], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    services = set(subprocess.run(["docker-compose", "config", "--services"], cwd=tmp_path,
                                  capture_output=True, text=True).stdout.split())
    assert {"postgres", "redis", "airflow-api-server", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer", "airflow-worker", "superset", "superset-init"} <= services


def test_no_secrets_or_local_state_tracked():
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split()
    bad = [f for f in files if f == ".env" or f.endswith((".pem", "superset.db", "airflow.db")) or "/pgdata/" in f]
    assert bad == []
    assert ".env" in (REPO / ".gitignore").read_text().split()
