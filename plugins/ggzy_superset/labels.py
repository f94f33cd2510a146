"""Chinese labels for codes, as Superset calculated columns.

The marts keep codes (`prefecture_code`, `category`, department codes); leaders read
names. Region and department names come from the dbt seeds (the one place they are
kept); the enum labels of the feed contract are listed here once.
Every dashboard filter targets the same column names on every dataset
(`prefecture_name`, `category_name`, `department_name`), so one filter reaches all
charts.
"""

from __future__ import annotations

import csv
from functools import cache

from ggzy_superset import settings

SEEDS = settings.REPO / "dbt_project" / "seeds"

CATEGORY = {
    "construction": "工程建设",
    "government_procurement": "政府采购",
    "land": "土地使用权",
    "mining_rights": "矿业权",
    "state_assets": "国有产权",
    "other": "其他",
}
INDUSTRY = {
    "housing": "房建市政",
    "transport": "交通",
    "water": "水利",
    "agriculture": "农业农村",
    "natural_resources": "自然资源",
    "medical": "医疗卫生",
    "other": "其他",
    "unknown": "未知",
}
SEVERITY = {"high": "高", "medium": "中", "low": "低"}
ENTITY_ROLE = {"tenderer": "招标人", "bidder": "投标人", "agency": "招标代理"}
LIST_TYPE = {
    "serious_dishonest": "严重失信主体",
    "red_list": "红名单",
    "administrative_penalty": "行政处罚",
    "abnormal_operation": "经营异常",
}
TIME_LIMIT_STATUS = {"on_time": "按时办结", "late": "超时办结", "open_overdue": "逾期未办结", "open": "办理中",
                     "short_period": "公示期不足"}
ITEM_TYPE = {"complaint": "投诉举报", "case": "处理决定", "tender": "标段"}


def _csv(name: str) -> list[dict[str, str]]:
    with open(SEEDS / name, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@cache
def regions() -> dict[str, str]:
    return {r["region_code"]: r["name_zh"] for r in _csv("regions.csv")}


@cache
def prefectures() -> dict[str, str]:
    return {r["region_code"]: r["name_zh"] for r in _csv("regions.csv") if r["level"] == "prefecture"}


@cache
def departments() -> dict[str, str]:
    return {r["code"]: r["name_zh"] for r in _csv("departments.csv")}


@cache
def rules() -> dict[str, str]:
    return {r["rule_id"]: r["name_zh"] for r in _csv("risk_rules.csv")}


@cache
def rule_groups() -> dict[str, str]:
    return {r["rule_id"]: r["rule_group"] for r in _csv("risk_rules.csv")}


RULE_GROUP = {
    "closed_loop": "闭环监管",
    "time_limit": "办理时限",
    "collusion": "串通投标",
    "related_bidders": "关联投标",
    "price_screen": "报价筛查",
    "network": "投标网络",
    "procurement": "程序异常",
    "credit": "信用",
    "expert": "评标专家",
}


def case(column: str, mapping: dict[str, str], default: str = "未知") -> str:
    """SQL CASE mapping codes to labels (codes compared as text)."""
    whens = "\n".join(f"    when '{k}' then '{v}'" for k, v in mapping.items())
    return f"case {column}::text\n{whens}\n    else '{default}'\nend"


def prefecture_of_region(column: str) -> str:
    """Prefecture name of any Yunnan region code (county codes roll up by their first 4 digits)."""
    return case(f"rpad(left({column}::text, 4), 6, '0')", {**prefectures(), "530000": "省本级"})
