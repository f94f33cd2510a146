"""The environment every Airflow process of this project runs with.

Airflow is configured only through AIRFLOW__* variables (no airflow.cfg edits), so the
Makefile, the tests and the `ggzy airflow` commands start identical processes.
"""

from __future__ import annotations

import os
from pathlib import Path

from ggzy import config, settings

API_PORT = settings.AIRFLOW_PORT.integer()
ADMIN_USER = settings.AIRFLOW_USER.text()


def airflow_home() -> Path:
    return config.home() / "airflow"


def airflow_env(url: str | None = None) -> dict[str, str]:
    """Environment for airflow CLI/processes: metadata DB in the warehouse server's
    `airflow` database (or AIRFLOW__DATABASE__SQL_ALCHEMY_CONN if already set)."""
    # cosmos runs the night's dbt in a copy of the project and keeps its partial parse from
    # that copy's target/: a DBT_TARGET_PATH or DBT_LOG_PATH set for `ggzy dbt` would send the
    # night's files elsewhere (and the next night would parse the whole project again)
    env = {k: v for k, v in os.environ.items() if k not in ("DBT_TARGET_PATH", "DBT_LOG_PATH")}
    home = airflow_home()
    home.mkdir(parents=True, exist_ok=True)
    warehouse = config.libpq_url(url or config.warehouse_url())
    env.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", _metadata_url())
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(config.REPO / "dags"),
        # Not the repo's plugins/: Airflow imports every .py file there as a top-level module
        # (ggzy/commands/airflow.py would shadow `airflow`). The ggzy package is installed
        # in the virtualenv instead; this folder holds real Airflow plugins, if any.
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": env.get("AIRFLOW__CORE__EXECUTOR", "LocalExecutor"),
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": config.TIMEZONE,
        "AIRFLOW__CORE__PARALLELISM": env.get("AIRFLOW__CORE__PARALLELISM", "4"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        # a Celery worker on another machine names the api-server's address (docs/scale-out.md)
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": env.get("AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
                                                           f"http://127.0.0.1:{API_PORT}/execution/"),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{API_PORT}",
        "AIRFLOW__API__PORT": str(API_PORT),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "30",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": env.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"),
        "AIRFLOW__WEBSERVER__EXPOSE_CONFIG": "False",
        "AIRFLOW_CONN_GGZY_WAREHOUSE": warehouse,
        "GGZY_HOME": str(config.home()),
        "GGZY_LANDING": str(config.landing()),
        "PATH": f"{Path(os.sys.executable).parent}:{env.get('PATH', '')}",
        "NO_PROXY": "*",
        # nothing phones home: no network at run time but the package registries
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
        "SCARF_ANALYTICS": "false",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "GX_ANALYTICS_ENABLED": "False",
        "AIRFLOW__CORE__DAG_DISCOVERY_SAFE_MODE": "True",
    })
    # cosmos maps only sslmode and keepalives_idle of the connection's extras into dbt's
    # profile: the URL's other options reach the dbt it starts as libpq's PG* variables
    from ggzy.transform import libpq_environment

    env.update(libpq_environment(warehouse))
    return env


def _metadata_url() -> str:
    if config.is_embedded():
        return config.sqlalchemy_url(config.warehouse_url("airflow"))
    # an external warehouse: Airflow's metadata goes into a database `airflow` on the same server
    return config.sqlalchemy_url(config.with_database(config.warehouse_url(), "airflow"))
