"""Data flows one way through the dbt layers: staging < intermediate < marts < disclosure.

A model reads models of its own layer or of a layer below it, and seeds (reference data)
anywhere; the feeds (sources declared under models/staging) are read by staging alone. The only
way back up is a named feedback source: a table this warehouse's own outputs write (alerts and
their handling, the 双随机一公开 draws, the run's ledgers) that the next night reads again. Read
from dbt's manifest (`dbt parse`, which compiles the project without connecting), so a ref()
hidden in a macro counts as well.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ggzy import config

LAYERS = ("staging", "intermediate", "marts", "disclosure")

# source name -> why the warehouse reads back what it wrote (the comment in its _*__sources.yml
# says the same): the feedback loops and the pipeline's own records, not feeds.
FEEDBACK_SOURCES = {
    "alerts": "departments' verdicts on the alerts raised from marts.fct_risk_signals (ops.alerts) and the "
              "rules' precision they give (ops.rule_precision): verified rules weigh more, dismissed alerts count 0",
    "supervision": "what departments did after an alert (events, clues, transfers, decisions, the watch list), "
                   "kept by ggzy.supervision and read back by the supervision marts",
    "sampling": "the 双随机一公开 draws and their inspection results, written immutably by `ggzy draw`",
    "load_ledger": "the loader's batch ledger and quarantine (raw.batches, raw.quarantine): the run's own record",
    "run_ledger": "the nightly run's ledger and quality-gate verdicts (ops.*): the run's own record",
}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    from ggzy.transform import dbt_command, dbt_env

    out = tmp_path_factory.mktemp("dbt-parse")
    # parse compiles without a connection: a URL no server answers proves it
    env = dbt_env("postgresql://ggzy@127.0.0.1:1/ggzy") | {
        "DBT_TARGET_PATH": str(out / "target"), "DBT_LOG_PATH": str(out / "logs")}
    proc = subprocess.run([*dbt_command(), "parse", "--no-partial-parse"], cwd=config.dbt_project_dir(),
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
    return json.loads((out / "target" / "manifest.json").read_text(encoding="utf-8"))


def layer(node: dict) -> str:
    """The folder under models/ a model or source is declared in."""
    return Path(node["original_file_path"]).parts[1]


def models(manifest: dict) -> dict[str, dict]:
    return {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}


def reads(manifest: dict) -> list[tuple[dict, str]]:
    """(model, unique id of a node it reads) for every model and dependency."""
    return [(m, dep) for m in models(manifest).values() for dep in m["depends_on"]["nodes"]]


def test_every_model_sits_in_a_layer(manifest):
    by_layer = {name: 0 for name in LAYERS}
    for m in models(manifest).values():
        assert layer(m) in LAYERS, f"{m['original_file_path']}: not under models/{{{','.join(LAYERS)}}}"
        by_layer[layer(m)] += 1
    assert all(by_layer.values()), by_layer  # the manifest holds the whole project


def test_no_model_reads_a_layer_above_it(manifest):
    nodes = models(manifest)
    upward = sorted(
        f"{layer(m)}.{m['name']} reads {layer(nodes[dep])}.{nodes[dep]['name']}"
        for m, dep in reads(manifest)
        if dep in nodes and LAYERS.index(layer(nodes[dep])) > LAYERS.index(layer(m))
    )
    assert not upward, "models read a layer above their own (move what they need down):\n" + "\n".join(upward)


def test_feeds_are_read_by_staging_only(manifest):
    sources = manifest["sources"]
    outside = sorted(
        f"{layer(m)}.{m['name']} reads feed {sources[dep]['source_name']}.{sources[dep]['name']}"
        for m, dep in reads(manifest)
        if dep in sources and layer(sources[dep]) == "staging" and layer(m) != "staging"
    )
    assert not outside, "feeds go through staging:\n" + "\n".join(outside)


def test_every_other_source_is_a_named_feedback_source(manifest):
    declared = {s["source_name"] for s in manifest["sources"].values() if layer(s) != "staging"}
    unnamed = sorted(declared - set(FEEDBACK_SOURCES))
    assert not unnamed, f"sources outside staging that are not named feedback sources: {unnamed}"
    stale = sorted(set(FEEDBACK_SOURCES) - declared)
    assert not stale, f"named feedback sources no longer declared: {stale}"
