"""What a report is made of: sections of figures (numbers with the mart they come from
and their value in the previous period), tables and charts; and the short text each
section opens with, generated from its figures only (numbers and changes, no judgement).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

Number = int | float | Decimal | None


@dataclass
class Figure:
    """One number of the report: label, value this period and the period before, its mart."""

    key: str
    label: str  # Chinese, as printed
    value: Number
    previous: Number
    mart: str  # schema.table it is computed from
    unit: str = ""  # 个, 条, 万元, ... ('%' for rates, which are fractions 0..1)

    @property
    def is_rate(self) -> bool:
        return self.unit == "%"

    def shown(self, value: Number = None, *, current: bool = True) -> str:
        """The value as printed in the PDF (the tests look for this exact text)."""
        v = self.value if current and value is None else value
        return fmt(v, self.unit)

    def change(self) -> str:
        """'较上期增加 12 条（+15.0%）', '较上期上升 2.1 个百分点', '与上期持平', '上期无数据'."""
        if self.value is None:
            return ""
        if self.previous is None:
            return "上期无数据"
        cur, prev = float(self.value), float(self.previous)
        if self.is_rate:
            points = (cur - prev) * 100
            if round(points, 1) == 0:
                return "与上期持平"
            return f"较上期{'上升' if points > 0 else '下降'} {abs(points):.1f} 个百分点"
        diff = cur - prev
        if round(diff, 2) == 0:
            return "与上期持平"
        word = "增加" if diff > 0 else "减少"
        pct = f"（{diff / prev * 100:+.1f}%）" if prev else ""
        return f"较上期{word} {fmt(abs(diff), self.unit)}{pct}"


def fmt(value: Number, unit: str = "") -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{float(value) * 100:.1f}%"
    v = float(value)
    if v == int(v) and unit not in ("万元", "亿元", "天", "人"):
        text = f"{int(v):,}"
    elif unit == "亿元":
        text = f"{v:,.2f}"
    else:
        text = f"{v:,.1f}"
    return f"{text} {unit}".rstrip() if unit not in ("%",) else text


@dataclass
class Table:
    title: str
    mart: str
    columns: list[str]
    rows: list[list[str]]  # formatted as printed
    note: str = ""


@dataclass
class Chart:
    title: str
    mart: str
    png: bytes


@dataclass
class Section:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # facts stated as such (e.g. no data this period)

    @property
    def marts(self) -> list[str]:
        seen: dict[str, None] = {}
        for item in (*self.figures, *self.tables, *self.charts):
            seen.setdefault(item.mart, None)
        return list(seen)

    def text(self) -> str:
        """The section's opening: each figure with its change against the previous period."""
        parts, nil = [], []
        for f in self.figures:
            if f.value == 0 and f.previous == 0:
                nil.append(f.label)  # said once at the end, not as a row of "0, 与上期持平"
                continue
            change = f.change()
            parts.append(f"{f.label} {f.shown()}" + (f"，{change}" if change else ""))
        if nil:
            parts.append("本期与上期均为零的：" + "、".join(nil))
        return "本期" + "；".join(parts) + "。" if parts else ""

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)
