"""Running dbt against the configured warehouse (outside Airflow: `ggzy dbt ...`).

Inside Airflow the same project runs through astronomer-cosmos; both use
dbt_project/profiles.yml, which reads only the environment set here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ggzy import config


def dbt_env(url: str | None = None) -> dict[str, str]:
    p = config.url_parts(url)
    env = dict(os.environ)
    env.update(
        GGZY_PG_HOST=str(p["host"]),
        GGZY_PG_PORT_DBT=str(p["port"]),
        GGZY_PG_USER=str(p["user"]),
        GGZY_PG_PASSWORD=str(p["password"] or "postgres"),
        GGZY_PG_DATABASE=str(p["database"]),
        DBT_PROFILES_DIR=str(config.dbt_project_dir()),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    return env


def dbt_executable() -> str:
    exe = Path(sys.executable).with_name("dbt")
    return str(exe) if exe.exists() else "dbt"


def run_dbt(args: list[str], url: str | None = None, check: bool = True) -> int:
    """Run `dbt <args>` in the project directory; returns the exit code."""
    proc = subprocess.run([dbt_executable(), *args], cwd=config.dbt_project_dir(), env=dbt_env(url))
    if check and proc.returncode != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed with exit code {proc.returncode}")
    return proc.returncode
