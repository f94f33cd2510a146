"""Logins and passwords: one setting each, none printed."""

from __future__ import annotations

SECRETS = {
    "GGZY_SUPERSET_PASSWORD": "role-pw-Superset-1",  # the database role ggzy_superset
    "GGZY_SUPERSET_ADMIN_PASSWORD": "web-pw-Superset-2",  # Superset's admin login
    "GGZY_AIRFLOW_PASSWORD": "web-pw-Airflow-3",
    "GGZY_ANALYST_PASSWORD": "role-pw-Analyst-4",
}


def test_superset_admin_login_and_database_role_have_separate_settings(monkeypatch):
    from ggzy_superset import settings

    from ggzy import roles

    monkeypatch.delenv("GGZY_SUPERSET_ADMIN_PASSWORD", raising=False)
    monkeypatch.setenv("GGZY_SUPERSET_PASSWORD", SECRETS["GGZY_SUPERSET_PASSWORD"])
    assert settings.admin()[1] != SECRETS["GGZY_SUPERSET_PASSWORD"]  # the role's password is not the login's
    monkeypatch.setenv("GGZY_SUPERSET_ADMIN_PASSWORD", SECRETS["GGZY_SUPERSET_ADMIN_PASSWORD"])
    assert settings.admin()[1] == SECRETS["GGZY_SUPERSET_ADMIN_PASSWORD"]
    assert roles.password_for(roles.role("ggzy_superset"))[0] == SECRETS["GGZY_SUPERSET_PASSWORD"]
    envs = {r.password_env for r in roles.ROLES}
    assert len(envs) == len(roles.ROLES) and settings.ADMIN_PASSWORD_ENV not in envs


def test_demo_summary_prints_no_password(monkeypatch, tmp_path):
    from ggzy import config, demo

    monkeypatch.setenv("GGZY_HOME", str(tmp_path))
    monkeypatch.delenv("GGZY_WAREHOUSE_URL", raising=False)
    config.superuser_password_file().parent.mkdir(parents=True)
    config.superuser_password_file().write_text("superuser-pw-5\n")
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    text = "\n".join(demo.summary(8080))
    assert "superuser-pw-5" in config.warehouse_url()  # the real URL has it ...
    for secret in [*SECRETS.values(), "superuser-pw-5"]:
        assert secret not in text  # ... the printed summary does not
    assert "GGZY_SUPERSET_ADMIN_PASSWORD" in text and "***" in text


def test_superset_reads_the_warehouse_as_its_role(monkeypatch):
    from ggzy import demo

    monkeypatch.setenv("GGZY_SUPERSET_PASSWORD", "r/ole@pw")
    url = demo.superset_warehouse_url("postgresql://postgres:su@127.0.0.1:5555/ggzy")
    assert url == "postgresql://ggzy_superset:r%2Fole%40pw@127.0.0.1:5555/ggzy"


def test_the_pseudonym_key_can_come_from_an_airflow_connection(monkeypatch, tmp_path):
    from ggzy import pseudonym

    monkeypatch.setenv("GGZY_HOME", str(tmp_path))
    monkeypatch.delenv(pseudonym.KEY_ENV, raising=False)
    monkeypatch.setenv(pseudonym.AIRFLOW_CONN_ENV, "generic://:k%2Fey-from-airflow@")
    assert pseudonym.key() == b"k/ey-from-airflow"
    monkeypatch.setenv(pseudonym.AIRFLOW_CONN_ENV, '{"conn_type": "generic", "password": "json-key"}')
    assert pseudonym.key() == b"json-key"
    monkeypatch.setenv(pseudonym.KEY_ENV, "env-key")  # the variable wins
    assert pseudonym.key() == b"env-key"
    assert not (tmp_path / "secrets" / "pseudonym.key").exists()  # nothing generated when one is given
