"""Identifiers and names that look and validate like the real ones.

USCCs and resident ID numbers carry correct check digits (python-stdnum computes them),
so that the loader's check-digit rules only fire on the rows we break on purpose.
Every generator here returns *distinct* values: clean lots must never share a phone,
MAC, CA certificate or bond account by accident (that is what the collusion rules look for).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from stdnum.cn import ric, uscc

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤李杨张"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅鹏飞波斌宇浩凯健俊帆帅旭宁琳晨欣怡佳雪婷倩颖"
    "志国建文荣德林海云昆滇春晓永祥福兴成斌辉瑞鑫磊亮龙翔鸿刚宏燕丹蓉萍莉薇"
)
TRADE_NAMES = (
    "建诚", "华泰", "鼎盛", "宏达", "金石", "恒通", "润泽", "正元", "博远", "中磊", "永安", "宏图", "盛世", "天成",
    "广厦", "汇丰", "骏达", "银河", "春城", "滇峰", "彩云", "高原", "苍山", "洱海", "玉龙", "金沙", "澜沧", "红土",
    "龙润", "信达", "顺通", "锦程", "安澜", "兴业", "益民", "瑞丰", "泰和", "佳禾", "嘉禾", "明珠", "华信", "众力",
    "远航", "新力", "德润", "恒基", "乾元", "坤泰", "聚源", "巨龙", "凌云", "星宇", "天润", "万通", "昌隆", "鑫源",
)
CONSTRUCTION_TRADES = ("建设工程", "市政工程", "路桥工程", "水利水电工程", "建筑工程", "园林绿化工程", "建筑安装工程",
                       "公路工程", "土木工程", "装饰工程")
SUPPLY_TRADES = ("医疗器械", "信息技术", "科技", "商贸", "环保科技", "机电设备", "办公设备", "物业服务", "农业科技", "智能科技")
BUYER_TRADES = ("房地产开发", "矿业", "置业", "实业", "投资")
SUFFIXES = ("有限公司", "有限公司", "有限公司", "有限责任公司", "集团有限公司")
ROADS = ("人民路", "北京路", "滇池路", "环城南路", "建设路", "学府路", "世纪大道", "春城路", "新华路", "文化路", "迎宾路", "南屏街")
MAC_OUIS = ("00-E0-4C", "B4-2E-99", "3C-7C-3F", "F4-8E-38", "00-1A-A0", "A4-BB-6D", "C8-5B-76", "70-85-C2", "E0-D5-5E")
IP_BLOCKS = ("116.52", "116.53", "112.112", "112.113", "222.172", "222.219", "182.246", "39.128", "39.129", "220.163")
PHONE_PREFIXES = ("139", "138", "137", "136", "135", "150", "151", "152", "158", "159", "187", "188", "182", "183",
                  "130", "131", "132", "155", "156", "185", "186", "133", "153", "180", "181", "189", "177", "199")
BANK_PREFIXES = ("2502", "5300", "1330", "7311", "8802", "0230")  # looks like corporate account numbers


def unique_ints(rng: np.random.Generator, n: int, high: int) -> np.ndarray:
    """n distinct integers in [0, high), in random order (rejection on the rare collision)."""
    out = np.unique(rng.integers(0, high, size=int(n * 1.1) + 16))
    while len(out) < n:
        out = np.unique(np.concatenate([out, rng.integers(0, high, size=n)]))
    rng.shuffle(out)
    return out[:n]


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    s = rng.integers(0, len(SURNAMES), n)
    g1 = rng.integers(0, len(GIVEN), n)
    g2 = rng.integers(0, len(GIVEN), n)
    two = rng.random(n) < 0.7
    return [SURNAMES[a] + GIVEN[b] + (GIVEN[c] if t else "") for a, b, c, t in zip(s, g1, g2, two, strict=True)]


def usccs(rng: np.random.Generator, regions: list[str], kind: str = "91") -> list[str]:
    """USCCs: authority+type (91 enterprise, 11 government body, 12 public institution), region, org code, check."""
    n = len(regions)
    codes = unique_ints(rng, n, 31**9)
    out = []
    for r, c in zip(regions, codes, strict=True):
        digits = []
        c = int(c)
        for _ in range(9):
            c, m = divmod(c, 31)
            digits.append(USCC_ALPHABET[m])
        body = f"{kind}{r}{''.join(digits)}"
        out.append(body + uscc.calc_check_digit(body))
    return out


def id_numbers(rng: np.random.Generator, regions: list[str], birth_days: np.ndarray) -> list[str]:
    """Resident ID numbers (GB 11643): region, birth date, order code, check digit; distinct."""
    from ggzy.generator.calendar import to_date

    seen: set[str] = set()
    out = []
    for r, b in zip(regions, birth_days, strict=True):
        d = to_date(int(b)).strftime("%Y%m%d")
        while True:
            body = f"{r}{d}{int(rng.integers(0, 1000)):03d}"
            if body not in seen:
                break
        seen.add(body)
        out.append(body + ric.calc_check_digit(body + "0"))  # stdnum expects a (dummy) check digit
    return out


def phones(rng: np.random.Generator, n: int) -> list[str]:
    pre = rng.integers(0, len(PHONE_PREFIXES), n)
    rest = unique_ints(rng, n, 10**8)
    # prefix + 8 digits; distinct suffixes make the numbers distinct
    return [f"{PHONE_PREFIXES[p]}{int(r):08d}" for p, r in zip(pre, rest, strict=True)]


def macs(rng: np.random.Generator, n: int) -> list[str]:
    oui = rng.integers(0, len(MAC_OUIS), n)
    nic = unique_ints(rng, n, 2**24)
    return [f"{MAC_OUIS[o]}-{(int(x) >> 16) & 255:02X}-{(int(x) >> 8) & 255:02X}-{int(x) & 255:02X}"
            for o, x in zip(oui, nic, strict=True)]


def ips(rng: np.random.Generator, n: int) -> list[str]:
    block = rng.integers(0, len(IP_BLOCKS), n)
    host = unique_ints(rng, n, 250 * 250)
    return [f"{IP_BLOCKS[b]}.{int(h) // 250 + 1}.{int(h) % 250 + 2}" for b, h in zip(block, host, strict=True)]


def hex_codes(rng: np.random.Generator, n: int, digits: int) -> list[str]:
    vals = unique_ints(rng, n, 2**62)
    salt = rng.integers(0, 2**62, n)
    return [(f"{int(v):016X}{int(s):016X}")[:digits] for v, s in zip(vals, salt, strict=True)]


def bank_accounts(rng: np.random.Generator, n: int) -> list[str]:
    pre = rng.integers(0, len(BANK_PREFIXES), n)
    rest = unique_ints(rng, n, 10**15)
    return [f"{BANK_PREFIXES[p]}{int(r):015d}" for p, r in zip(pre, rest, strict=True)]


def company_names(rng: np.random.Generator, prefixes: list[str], trades: tuple[str, ...], taken: set[str],
                  owns: Callable[[str], bool] = lambda name: True, shares: int = 1) -> list[str]:
    """Distinct names like 云南建诚建设工程有限公司 / 昆明宏达市政工程有限公司; `owns`: whether a name
    is in this world's share of the names (one of `shares`: a shard's, see World.owns), so
    `shares` times the attempts."""
    out = []
    for p in prefixes:
        for attempt in range(200 * shares):
            t = TRADE_NAMES[int(rng.integers(0, len(TRADE_NAMES)))]
            if attempt > 20 * shares:  # two trade names when the simple ones are used up
                t += TRADE_NAMES[int(rng.integers(0, len(TRADE_NAMES)))]
            name = f"{p}{t}{trades[int(rng.integers(0, len(trades)))]}{SUFFIXES[int(rng.integers(0, len(SUFFIXES)))]}"
            if name not in taken and owns(name):
                break
        taken.add(name)
        out.append(name)
    return out
