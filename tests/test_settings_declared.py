"""Every environment variable the project reads is declared once in ggzy.settings, with its
default and meaning; README.md's table is generated from there; modules read through it."""

from __future__ import annotations

import ast
import re
import sys

import pytest

from ggzy import config, roles, settings

REPO = config.REPO
SCANNED = ("plugins", "dags", "tools", "tests")
NAME = re.compile(r"(?<![A-Za-z0-9_])(?:AIRFLOW_CONN_)?GGZY_[A-Z0-9_]*[A-Z0-9]")
# os.environ.get("GGZY_…"), os.environ["GGZY_…"], os.getenv("GGZY_…"): a read with its own default
DIRECT_READ = re.compile(r"(?:environ\.get|getenv)\(\s*f?[\"'](?:AIRFLOW_CONN_)?GGZY_"
                         r"|environ\[\s*f?[\"'](?:AIRFLOW_CONN_)?GGZY_\w*[\"']\](?!\s*=[^=])")
# Modules allowed to read GGZY_* themselves: none (every read goes through ggzy.settings).
PENDING: set[str] = set()


def _files():
    for top in SCANNED:
        for p in sorted((REPO / top).rglob("*")):
            if p.suffix in (".py", ".yml", ".yaml", ".sql", ".sh") and p.is_file() and "__pycache__" not in p.parts:
                yield p
    yield REPO / "Makefile"
    yield REPO / "dbt_project" / "profiles.yml"


def _declared(name: str) -> bool:
    return name in settings.SETTINGS or name in {r.password_env for r in roles.ROLES}


def test_every_variable_named_in_code_is_declared():
    undeclared: dict[str, set[str]] = {}
    for p in _files():
        for name in NAME.findall(p.read_text(encoding="utf-8", errors="replace")):
            if not _declared(name):
                undeclared.setdefault(name, set()).add(str(p.relative_to(REPO)))
    assert not undeclared, f"declare these in plugins/ggzy/settings.py: {undeclared}"


def test_modules_read_variables_through_settings():
    direct = set()
    for top in ("plugins", "dags", "tools"):
        for p in (REPO / top).rglob("*.py"):
            rel = str(p.relative_to(REPO))
            if rel != "plugins/ggzy/settings.py" and DIRECT_READ.search(p.read_text(encoding="utf-8")):
                direct.add(rel)
    assert direct <= PENDING, f"read GGZY_* through ggzy.settings, not os.environ: {sorted(direct - PENDING)}"


def test_readme_table_is_generated_from_settings():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert settings.readme_with_table(readme) == readme, \
        "README.md's table of variables is stale: run .venv/bin/python tools/gen_settings_table.py"


def test_readme_names_each_variable_a_deployment_sets():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    users = [s for s in settings.SETTINGS.values() if s.scope == settings.USER]
    assert len(users) >= 40
    for s in users:
        assert f"| `{s.name}` |" in readme
        assert s.meaning and s.default_shown
    for s in settings.SETTINGS.values():
        if s.scope != settings.USER:  # internal and test-only variables stay out of the README
            assert f"| `{s.name}` |" not in readme


def test_settings_needs_only_the_standard_library():
    """ggzy_superset (the Superset venv, without the pipeline's packages) imports it."""
    tree = ast.parse((REPO / "plugins/ggzy/settings.py").read_text(encoding="utf-8"))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_defaults_empty_values_and_bad_values(monkeypatch):
    monkeypatch.delenv("GGZY_PG_PORT", raising=False)
    assert settings.PG_PORT.integer() == 55432 == config.pg_port()
    monkeypatch.setenv("GGZY_PG_PORT", "")  # empty = unset
    assert config.pg_port() == 55432
    monkeypatch.setenv("GGZY_PG_PORT", "6543")
    assert config.pg_port() == 6543
    monkeypatch.setenv("GGZY_PG_PORT", "54 32")
    with pytest.raises(ValueError, match="GGZY_PG_PORT='54 32': not a whole number"):
        config.pg_port()
    monkeypatch.delenv("GGZY_REPLICATION_PASSWORD", raising=False)
    with pytest.raises(LookupError, match="GGZY_REPLICATION_PASSWORD is not set"):
        settings.REPLICATION_PASSWORD.text()
    monkeypatch.setenv("GGZY_ANALYST_PASSWORD", "an-pw")
    assert settings.role_password("ggzy_analyst") == "an-pw" == roles.password_for(roles.role("ggzy_analyst"))[0]
