"""Running dbt against the configured warehouse (outside Airflow: `ggzy dbt ...`).

Inside Airflow the same project runs through astronomer-cosmos, whose profile comes from
the Airflow connection `ggzy_warehouse` (the same URL; its query options are the
connection's extras, which cosmos maps to sslmode & co.). Outside Airflow dbt reads
dbt_project/profiles.yml, which reads only the environment set here.
"""

from __future__ import annotations

import os
import subprocess
import sys

from ggzy import config, settings

# The warehouse URL's login and place go to profiles.yml's env_var() calls; every other
# option the URL sets (sslmode, sslrootcert, options, ...) goes to libpq's own environment
# variable (PGSSLMODE, ...), which dbt-postgres's psycopg2 reads for what the profile
# leaves unset: the profile stays `env_var()` only and any option reaches dbt.
PROFILE_KEYWORDS = {"host": "GGZY_PG_HOST", "port": "GGZY_PG_PORT_DBT", "user": "GGZY_PG_USER",
                    "password": "GGZY_PG_PASSWORD", "dbname": "GGZY_PG_DATABASE"}


def dbt_env(url: str | None = None) -> dict[str, str]:
    """The environment of a dbt process on the warehouse at `url` (default: the configured one)."""
    p = config.url_parts(url)
    env = dict(os.environ)
    env.update(
        GGZY_PG_HOST=str(p["host"]),
        GGZY_PG_PORT_DBT=str(p["port"]),
        GGZY_PG_USER=str(p["user"]),
        GGZY_PG_PASSWORD=str(p["password"] or "postgres"),
        GGZY_PG_DATABASE=str(p["database"]),
        GGZY_DBT_THREADS=str(settings.DBT_THREADS.integer()),
        DBT_PROFILES_DIR=str(config.dbt_project_dir()),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    env.update(libpq_environment(url))
    return env


def libpq_environment(url: str | None = None) -> dict[str, str]:
    """PG* variables for the URL's options other than login and place (libpq names them)."""
    from psycopg import pq

    envvar = {o.keyword.decode(): o.envvar.decode() for o in pq.Conninfo.get_defaults() if o.envvar}
    out: dict[str, str] = {}
    for keyword, value in config.connection_keywords(url).items():
        if keyword in PROFILE_KEYWORDS:
            continue
        if keyword not in envvar:
            raise SystemExit(f"warehouse URL option {keyword}={value!r} cannot reach dbt: libpq has no "
                             "environment variable for it (use it in ~/.pg_service.conf and `?service=`)")
        out[envvar[keyword]] = value
    return out


def dbt_command() -> list[str]:
    """`dbt` of this Python, starting the longest chain of a run first (ggzy.dbt_scheduler)."""
    return [sys.executable, "-m", "ggzy.dbt_scheduler"]


def run_dbt(args: list[str], url: str | None = None, check: bool = True) -> int:
    """Run `dbt <args>` in the project directory; returns the exit code."""
    proc = subprocess.run([*dbt_command(), *args], cwd=config.dbt_project_dir(), env=dbt_env(url))
    if check and proc.returncode != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed with exit code {proc.returncode}")
    return proc.returncode
