"""The dashboards as code (dashboards/, Superset's export layout) are importable,
read only marts, carry no password, and speak Chinese to leaders."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.superset

REPO = Path(__file__).resolve().parents[2]
DASH = REPO / "dashboards"
EXPOSURES = REPO / "dbt_project" / "models" / "marts" / "_exposures.yml"
# The data engineers' dashboard reads the load ledger (documented exception, dashboards/README.md).
ALLOWED_NON_MARTS: set[tuple[str, str]] = set()  # every dataset on marts
REQUIRED = {"总览", "风险预警", "闭环监管", "信用监管", "投诉举报与时限", "双随机一公开", "市场分析", "数据运行"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def load(sub: str) -> dict[Path, dict]:
    return {p: yaml.safe_load(p.read_text("utf-8")) for p in sorted((DASH / sub).rglob("*.yaml"))}


@pytest.fixture(scope="module")
def tree():
    return {sub: load(sub) for sub in ("databases", "datasets", "charts", "dashboards")}


def test_export_layout(tree):
    meta = yaml.safe_load((DASH / "metadata.yaml").read_text())
    assert meta["version"] == "1.0.0"
    assert len(tree["databases"]) == 1
    assert tree["datasets"] and tree["charts"] and tree["dashboards"]


def test_uuids_unique_and_references_resolve(tree):
    uuids = [d["uuid"] for sub in tree.values() for d in sub.values()]
    assert len(uuids) == len(set(uuids))
    db_uuid = next(iter(tree["databases"].values()))["uuid"]
    ds_uuids = {d["uuid"] for d in tree["datasets"].values()}
    chart_uuids = {c["uuid"] for c in tree["charts"].values()}
    assert all(d["database_uuid"] == db_uuid for d in tree["datasets"].values())
    assert all(c["dataset_uuid"] in ds_uuids for c in tree["charts"].values())
    for p, dash in tree["dashboards"].items():
        used = {v["meta"]["uuid"] for v in dash["position"].values() if isinstance(v, dict) and v.get("type") == "CHART"}
        assert used, p
        assert used <= chart_uuids, f"{p.name}: charts missing from charts/: {used - chart_uuids}"
        for f in dash["metadata"].get("native_filter_configuration", []):
            for t in f["targets"]:
                if "datasetUuid" in t:
                    assert t["datasetUuid"] in ds_uuids


def test_datasets_read_only_marts(tree):
    for p, d in tree["datasets"].items():
        assert d["sql"] in (None, ""), f"{p.name}: virtual (SQL) dataset"
        assert d["schema"] == "marts" or (d["schema"], d["table_name"]) in ALLOWED_NON_MARTS, \
            f"{p.name}: {d['schema']}.{d['table_name']} is not a mart"


def test_no_password_in_git():
    db = next(iter(load("databases").values()))
    uri = db["sqlalchemy_uri"]
    m = re.match(r"^[a-z0-9+]+://(?P<user>[^:@/]+)(?::(?P<pw>[^@]*))?@", uri)
    assert m, uri
    assert m.group("pw") in (None, "XXXXXXXXXX"), "a real password is in dashboards/databases"
    assert "password" not in db and "encrypted_extra" not in db
    for p in DASH.rglob("*.yaml"):
        text = p.read_text("utf-8")
        assert not re.search(r"postgres(?:ql)?(?:\+\w+)?://[^:@/\s]+:(?!XXXXXXXXXX@)[^@\s]+@", text), p


def test_every_chart_has_a_query_context_for_the_check(tree):
    for p, c in tree["charts"].items():
        qc = json.loads(c["query_context"])
        assert qc["queries"], p.name
        assert c["params"]["viz_type"] == c["viz_type"]


def test_the_eight_dashboards_in_chinese(tree):
    titles = {d["dashboard_title"] for d in tree["dashboards"].values()}
    assert REQUIRED <= titles
    for c in tree["charts"].values():
        assert CJK.search(c["slice_name"]), c["slice_name"]
    for d in tree["datasets"].values():
        for m in d["metrics"]:
            assert m["verbose_name"] and CJK.search(m["verbose_name"]), (d["table_name"], m["metric_name"])


def test_leaders_dashboards_filter_by_date_and_prefecture(tree):
    datasets = {d["uuid"]: d for d in tree["datasets"].values()}
    charts = {c["uuid"]: c for c in tree["charts"].values()}
    for d in tree["dashboards"].values():
        names = {f["name"]: f for f in d["metadata"]["native_filter_configuration"]}
        dated = any(datasets[charts[v["meta"]["uuid"]]["dataset_uuid"]]["main_dttm_col"]
                    for v in d["position"].values() if isinstance(v, dict) and v.get("type") == "CHART")
        assert ("日期范围" in names) == dated, d["dashboard_title"]
        if d["dashboard_title"] != "数据运行":
            assert "州市" in names, d["dashboard_title"]
    overview = next(d for d in tree["dashboards"].values() if d["slug"] == "overview")
    names = {f["name"] for f in overview["metadata"]["native_filter_configuration"]}
    assert {"日期范围", "州市", "交易类别", "监管部门"} <= names


def test_exposures_name_each_dashboard_and_its_marts(tree):
    exposures = {e["config"]["meta"]["dashboard_uuid"]: e for e in yaml.safe_load(EXPOSURES.read_text())["exposures"]}
    by_uuid = {d["uuid"]: d for d in tree["datasets"].values()}
    charts = {c["uuid"]: c for c in tree["charts"].values()}
    for d in tree["dashboards"].values():
        e = exposures[d["uuid"]]
        assert e["type"] == "dashboard" and e["owner"]["name"]
        read = {by_uuid[charts[v["meta"]["uuid"]]["dataset_uuid"]]["table_name"]
                for v in d["position"].values() if isinstance(v, dict) and v.get("type") == "CHART"
                and by_uuid[charts[v["meta"]["uuid"]]["dataset_uuid"]]["schema"] == "marts"}
        assert {f"ref('{t}')" for t in read} == set(e["depends_on"]), d["dashboard_title"]


def test_quarantine_rules_are_named_in_chinese(tree):
    """数据运行 shows why rows were quarantined by the rule's Chinese name, for every rule
    the loader has (a new rule without a name would show as 未知)."""
    import sys

    sys.path.insert(0, str(REPO / "plugins"))
    from ggzy_superset.spec_datasets import RULE_NAMES_ZH

    from ggzy.feeds.rules import RULES

    assert set(RULE_NAMES_ZH) == set(RULES) and all(CJK.search(v) for v in RULE_NAMES_ZH.values())
    chart = next(c for c in tree["charts"].values() if c["slice_name"] == "隔离原因（校验规则）")
    assert chart["params"]["x_axis"] == "rule_name"
