"""The warehouse is one libpq URL everywhere: a password that needs %-encoding and an option
such as ?sslmode=… reach the DAG tasks, dbt's profile and Superset unchanged in meaning."""

from __future__ import annotations

import subprocess

import psycopg
import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict

from ggzy import config

PASSWORD = "p@ss/w:rd %x?#"  # every character a URL must encode
URL = ("postgresql://ggzy_owner:p%40ss%2Fw%3Ard%20%25x%3F%23@db.example.org:6543/ggzy"
       "?sslmode=verify-full&sslrootcert=%2Fetc%2Fggzy%2Fca.pem")


def meaning(url: str) -> dict[str, str]:
    """What libpq connects with: host, port, login, database and options, decoded."""
    return {k: str(v) for k, v in conninfo_to_dict(config.libpq_url(url)).items()}


def test_the_url_as_libpq_reads_it():
    assert meaning(URL) == {"host": "db.example.org", "port": "6543", "user": "ggzy_owner", "password": PASSWORD,
                            "dbname": "ggzy", "sslmode": "verify-full", "sslrootcert": "/etc/ggzy/ca.pem"}


def test_configured_url_reaches_sqlalchemy_and_other_databases_unchanged(monkeypatch):
    monkeypatch.setenv("GGZY_WAREHOUSE_URL", URL)
    assert config.warehouse_url() == URL
    assert meaning(config.sqlalchemy_url()) == meaning(URL)
    assert meaning(config.with_database(URL, "airflow")) == meaning(URL) | {"dbname": "airflow"}
    assert meaning(config.with_login(URL, "ggzy_superset", "s/e@c")) == meaning(URL) | {
        "user": "ggzy_superset", "password": "s/e@c"}


def test_dag_tasks_get_the_url_through_the_airflow_connection(monkeypatch, tmp_path):
    from ggzy import airflow_env, dag_support

    monkeypatch.setenv("GGZY_HOME", str(tmp_path))
    monkeypatch.setenv("GGZY_WAREHOUSE_URL", URL)
    env = airflow_env.airflow_env()
    monkeypatch.setenv("AIRFLOW_CONN_GGZY_WAREHOUSE", env["AIRFLOW_CONN_GGZY_WAREHOUSE"])
    assert meaning(dag_support.warehouse_url()) == meaning(URL)
    # Airflow's own metadata: database `airflow` on the same server, same login and options
    assert meaning(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]) == meaning(URL) | {"dbname": "airflow"}
    # cosmos maps only sslmode of the connection's extras; the dbt it starts gets the rest from libpq's variables
    assert env["PGSSLROOTCERT"] == "/etc/ggzy/ca.pem"


def test_dbt_profile_environment_carries_the_whole_url():
    from ggzy.transform import PROFILE_KEYWORDS, dbt_env

    env = dbt_env(URL)
    got = {kw: env[var] for kw, var in PROFILE_KEYWORDS.items()}
    got |= {"sslmode": env["PGSSLMODE"], "sslrootcert": env["PGSSLROOTCERT"]}
    assert got == meaning(URL)
    profile = (config.dbt_project_dir() / "profiles.yml").read_text(encoding="utf-8")
    output = yaml.safe_load(profile)["ggzy"]["outputs"]["warehouse"]
    # the profile reads those variables and sets no option of its own that would override the URL's
    assert {f"env_var('{v}'" in profile for v in PROFILE_KEYWORDS.values()} == {True}
    assert not {"sslmode", "sslrootcert", "sslcert", "sslkey"} & set(output)


def test_superset_reads_the_same_url(monkeypatch):
    monkeypatch.syspath_prepend(str(config.REPO / "plugins"))  # the Superset side is not installed in .venv
    from ggzy_superset import settings as superset

    monkeypatch.delenv("GGZY_WAREHOUSE_URL_FOR_SUPERSET", raising=False)
    monkeypatch.delenv("GGZY_SUPERSET_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("GGZY_WAREHOUSE_URL", URL)
    uri = superset.warehouse_url()
    assert uri.startswith("postgresql+psycopg2://")
    assert meaning(uri) == meaning(URL)
    masked, password = superset.split_password(uri)  # how the import bundle carries it
    assert password == PASSWORD and "p%40ss" not in masked
    assert meaning(masked) == meaning(URL) | {"password": superset.MASKED}
    v6 = "postgresql+psycopg2://us%2Ber:p%40ss@[::1]:5433/ggzy?sslmode=disable"
    masked, password = superset.split_password(v6)
    assert (masked, password) == (f"postgresql+psycopg2://us%2Ber:{superset.MASKED}@[::1]:5433/ggzy?sslmode=disable",
                                  "p@ss")


def test_a_real_server_honours_the_encoded_password_and_sslmode(warehouse_url, tmp_path):
    """dbt connects with a password that needs encoding, and obeys ?sslmode: the embedded
    server speaks no SSL, so sslmode=require must be refused (the option reached libpq)."""
    from ggzy.transform import dbt_command, dbt_env

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("drop role if exists ggzy_url_test")
        conn.execute(f"create role ggzy_url_test login password '{PASSWORD}'")
    try:
        base = config.with_login(warehouse_url, "ggzy_url_test", PASSWORD)
        assert "p%40ss" in base

        def dbt_debug(url: str) -> subprocess.CompletedProcess:
            env = dbt_env(url) | {"DBT_TARGET_PATH": str(tmp_path / "target"), "DBT_LOG_PATH": str(tmp_path / "logs")}
            return subprocess.run([*dbt_command(), "debug", "--connection"], cwd=config.dbt_project_dir(), env=env,
                                  capture_output=True, text=True, timeout=300)

        ok = dbt_debug(base + "?sslmode=disable")
        assert ok.returncode == 0, ok.stdout[-2000:]
        refused = dbt_debug(base + "?sslmode=require")
        assert refused.returncode != 0 and "SSL" in refused.stdout, refused.stdout[-2000:]
    finally:
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            conn.execute("drop role if exists ggzy_url_test")


@pytest.mark.parametrize("option", ["keepalives=1"])
def test_an_option_dbt_cannot_receive_is_refused_by_name(option):
    from ggzy.transform import dbt_env

    with pytest.raises(SystemExit, match="keepalives"):
        dbt_env(f"{URL}&{option}")
