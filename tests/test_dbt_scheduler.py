"""`ggzy dbt` starts the longest chain of ready models first (#18, ggzy.dbt_scheduler).

A real dbt run of a small project on the session's PostgreSQL, with one thread so that the
order in run_results.json is the order of the queue: a chain of four models hanging off a
root must start before the root's three leaves, which dbt by itself runs first (they are
shallower); once the chain's last model is as short as a leaf (one model left each), names
break the tie. The same project through plain dbt shows the order this replaces.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ggzy.dbt_scheduler import critical_path_scores
from ggzy.transform import dbt_command, dbt_env

PROFILE = """\
chain:
  target: t
  outputs:
    t:
      type: postgres
      host: "{{ env_var('GGZY_PG_HOST') }}"
      port: "{{ env_var('GGZY_PG_PORT_DBT') | int }}"
      user: "{{ env_var('GGZY_PG_USER') }}"
      password: "{{ env_var('GGZY_PG_PASSWORD') }}"
      dbname: "{{ env_var('GGZY_PG_DATABASE') }}"
      schema: dbt_scheduler_test
      threads: 1
"""
# root -> leaf_a, leaf_b, leaf_c (shallow); root -> z1 -> z2 -> z3 -> z4 (the long chain)
MODELS = {"root": "select 1 as x", **{f"leaf_{c}": "select x from {{ ref('root') }}" for c in "abc"},
          "z1": "select x from {{ ref('root') }}",
          **{f"z{i}": f"select x from {{{{ ref('z{i - 1}') }}}}" for i in range(2, 5)}}


@pytest.fixture()
def project(tmp_path) -> Path:
    (tmp_path / "dbt_project.yml").write_text("name: chain\nversion: '1.0.0'\nprofile: chain\n"
                                              "models:\n  chain:\n    +materialized: view\n")
    (tmp_path / "profiles.yml").write_text(PROFILE)
    (tmp_path / "models").mkdir()
    for name, select in MODELS.items():
        (tmp_path / "models" / f"{name}.sql").write_text(select + "\n")
    return tmp_path


def run_order(project: Path, url: str, command: list[str]) -> list[str]:
    env = dict(dbt_env(url), DBT_PROFILES_DIR=str(project), DBT_TARGET_PATH=str(project / "target"),
               DBT_LOG_PATH=str(project / "logs"))
    proc = subprocess.run([*command, "run", "--no-partial-parse"], cwd=project, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    return [r["unique_id"].rsplit(".", 1)[-1] for r in results]


def test_ggzy_dbt_runs_the_long_chain_before_the_shallow_leaves(project, warehouse_url):
    order = run_order(project, warehouse_url, dbt_command())
    assert order == ["root", "z1", "z2", "z3", "leaf_a", "leaf_b", "leaf_c", "z4"]


def test_plain_dbt_runs_the_leaves_first(project, warehouse_url):
    """What the scheduler changes: dbt's own queue takes the shallowest ready node."""
    plain = [sys.executable, "-c", "import sys; from dbt.cli.main import cli; sys.argv[0] = 'dbt'; sys.exit(cli())"]
    order = run_order(project, warehouse_url, plain)
    assert order.index("leaf_c") < order.index("z2")


def test_scores_count_only_costly_nodes_on_the_longest_path():
    import networkx as nx

    graph = nx.DiGraph([("model.a", "test.a"), ("test.a", "model.b"), ("model.a", "model.c"), ("model.b", "model.d")])
    scores = critical_path_scores(graph, lambda node: node.startswith("model."))
    assert scores == {"model.a": -3, "test.a": -2, "model.b": -2, "model.d": -1, "model.c": -1}
