"""Yunnan's regions and the supervising departments, for the demo world.

Prefecture codes come from the contract (`contract.YUNNAN_PREFECTURES`); county codes
(GB/T 2260) make addresses, USCCs and ID numbers look like the real thing. Departments
are reference data the supervision office keeps (not a feed): they live in
`departments.csv` beside this module so that the dbt engineer can seed the same list
that the generator writes into complaints and cases.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ggzy.feeds.contract import PROVINCE_CODE, YUNNAN_PREFECTURES

# A subset of real counties per prefecture (code, name).
COUNTIES: dict[str, tuple[tuple[str, str], ...]] = {
    "530100": (("530102", "五华区"), ("530103", "盘龙区"), ("530111", "官渡区"), ("530112", "西山区"),
               ("530114", "呈贡区"), ("530115", "晋宁区"), ("530125", "宜良县"), ("530127", "嵩明县"),
               ("530181", "安宁市")),
    "530300": (("530302", "麒麟区"), ("530303", "沾益区"), ("530322", "陆良县"), ("530324", "罗平县"),
               ("530326", "会泽县"), ("530381", "宣威市")),
    "530400": (("530402", "红塔区"), ("530403", "江川区"), ("530423", "通海县"), ("530427", "新平彝族傣族自治县"),
               ("530481", "澄江市")),
    "530500": (("530502", "隆阳区"), ("530521", "施甸县"), ("530524", "昌宁县"), ("530581", "腾冲市")),
    "530600": (("530602", "昭阳区"), ("530621", "鲁甸县"), ("530622", "巧家县"), ("530627", "镇雄县"),
               ("530681", "水富市")),
    "530700": (("530702", "古城区"), ("530721", "玉龙纳西族自治县"), ("530722", "永胜县"), ("530723", "华坪县")),
    "530800": (("530802", "思茅区"), ("530821", "宁洱哈尼族彝族自治县"), ("530824", "景谷傣族彝族自治县"),
               ("530828", "澜沧拉祜族自治县")),
    "530900": (("530902", "临翔区"), ("530921", "凤庆县"), ("530922", "云县"), ("530926", "耿马傣族佤族自治县")),
    "532300": (("532301", "楚雄市"), ("532302", "禄丰市"), ("532326", "大姚县"), ("532328", "元谋县")),
    "532500": (("532501", "个旧市"), ("532502", "开远市"), ("532503", "蒙自市"), ("532504", "弥勒市"),
               ("532524", "建水县")),
    "532600": (("532601", "文山市"), ("532622", "砚山县"), ("532625", "马关县"), ("532627", "广南县")),
    "532800": (("532801", "景洪市"), ("532822", "勐海县"), ("532823", "勐腊县")),
    "532900": (("532901", "大理市"), ("532923", "祥云县"), ("532924", "宾川县"), ("532930", "洱源县"),
               ("532932", "鹤庆县")),
    "533100": (("533102", "瑞丽市"), ("533103", "芒市"), ("533123", "盈江县"), ("533124", "陇川县")),
    "533300": (("533301", "泸水市"), ("533323", "福贡县"), ("533325", "兰坪白族普米族自治县")),
    "533400": (("533401", "香格里拉市"), ("533422", "德钦县"), ("533423", "维西傈僳族自治县")),
}

# Short names used in company names (昆明XX市政工程有限公司).
SHORT_NAMES: dict[str, str] = {
    "530100": "昆明", "530300": "曲靖", "530400": "玉溪", "530500": "保山", "530600": "昭通",
    "530700": "丽江", "530800": "普洱", "530900": "临沧", "532300": "楚雄", "532500": "红河",
    "532600": "文山", "532800": "西双版纳", "532900": "大理", "533100": "德宏", "533300": "怒江",
    "533400": "迪庆",
}

# Rough share of tendering activity per prefecture (Kunming dominates).
ACTIVITY: dict[str, float] = {
    "530100": 0.28, "530300": 0.08, "530400": 0.06, "530500": 0.05, "530600": 0.07, "530700": 0.035,
    "530800": 0.045, "530900": 0.04, "532300": 0.05, "532500": 0.08, "532600": 0.05, "532800": 0.03,
    "532900": 0.07, "533100": 0.03, "533300": 0.015, "533400": 0.015,
}

PREFECTURES: tuple[str, ...] = tuple(YUNNAN_PREFECTURES)

# Department kinds: (code suffix, kind as in the contract's reference-data list,
# provincial name, prefecture name pattern).
DEPARTMENT_KINDS: tuple[tuple[str, str, str, str], ...] = (
    ("DRC", "development-reform", "云南省发展和改革委员会", "{p}发展和改革委员会"),
    ("FIN", "finance", "云南省财政厅", "{p}财政局"),
    ("HOUSING", "housing", "云南省住房和城乡建设厅", "{p}住房和城乡建设局"),
    ("TRANSPORT", "transport", "云南省交通运输厅", "{p}交通运输局"),
    ("WATER", "water", "云南省水利厅", "{p}水务局"),
    ("AGRI", "agriculture", "云南省农业农村厅", "{p}农业农村局"),
    ("NATRES", "natural-resources", "云南省自然资源厅", "{p}自然资源和规划局"),
    ("AUDIT", "audit", "云南省审计厅", "{p}审计局"),
    ("DISCIPLINE", "discipline-inspection", "中共云南省纪律检查委员会 云南省监察委员会", "中共{p}纪律检查委员会 {p}监察委员会"),
    ("POLICE", "public-security", "云南省公安厅", "{p}公安局"),
    ("GGZY", "trading-centre", "云南省公共资源交易中心", "{p}公共资源交易中心"),
)

DEPARTMENTS_CSV = Path(__file__).with_name("departments.csv")


@dataclass(frozen=True)
class Department:
    code: str
    name_zh: str
    kind: str
    region_code: str


def build_departments() -> list[Department]:
    """The department list, provincial first, then each prefecture (source of departments.csv)."""
    out = [Department(f"{PROVINCE_CODE}-{s}", prov, kind, PROVINCE_CODE) for s, kind, prov, _ in DEPARTMENT_KINDS]
    for code, name in YUNNAN_PREFECTURES.items():
        out += [Department(f"{code}-{s}", pat.format(p=name), kind, code) for s, kind, _, pat in DEPARTMENT_KINDS]
    return out


def write_departments_csv(path: Path = DEPARTMENTS_CSV) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "name_zh", "kind", "region_code"])
        for d in build_departments():
            w.writerow([d.code, d.name_zh, d.kind, d.region_code])


@cache
def departments() -> tuple[Department, ...]:
    """The checked-in list (what the warehouse seeds); the generator only uses these codes."""
    with DEPARTMENTS_CSV.open(encoding="utf-8", newline="") as f:
        return tuple(Department(**row) for row in csv.DictReader(f))


def supervising_suffix(category: str, industry: str) -> str:
    """Which department supervises a lot (a simplified responsibility list, 监管责任清单)."""
    if category == "construction":
        return {"housing": "HOUSING", "transport": "TRANSPORT", "water": "WATER",
                "agriculture": "AGRI", "natural_resources": "NATRES"}.get(industry, "HOUSING")
    if category in ("land", "mining_rights"):
        return "NATRES"
    return "FIN"  # government procurement, state assets, other
