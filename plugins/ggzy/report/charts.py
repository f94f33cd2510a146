"""Charts of the report, drawn by matplotlib in a CJK font and returned as PNG bytes.

Deterministic: the same data give the same bytes (no 'Software' or date metadata in
the PNG, fixed size and resolution, Agg backend), so a re-issued report is identical.
A missing CJK font is an error, not boxes of tofu in front of the joint meeting.
"""

from __future__ import annotations

import io
from functools import cache

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

# Noto Sans CJK SC (Debian fonts-noto-cjk) first; the others cover Simplified Chinese too.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
                "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei")
PALETTE = ["#1f5fa8", "#e0803a", "#3a9a5b", "#c0392b", "#8e6bb8", "#7f8c8d", "#d4a017", "#16a0a0"]
DPI = 150


class FontMissing(RuntimeError):
    """No font with Chinese glyphs is installed."""


@cache
def cjk_family() -> str:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    raise FontMissing("no CJK font found for the report's charts (looked for: " + ", ".join(CJK_FAMILIES)
                      + "); install one, e.g. `apt-get install fonts-noto-cjk`")


def _figure(width: float = 7.0, height: float = 3.0):
    plt.rcParams.update({"font.family": cjk_family(), "axes.unicode_minus": False, "svg.hashsalt": "ggzy",
                         "font.size": 9})
    fig, ax = plt.subplots(figsize=(width, height), dpi=DPI)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def bars(labels: list[str], series: dict[str, list[float]], *, ylabel: str = "", stacked: bool = False,
         horizontal: bool = False, height: float = 3.0) -> bytes:
    """Grouped (or stacked) bars: one group per label, one bar per series."""
    fig, ax = _figure(height=height)
    n = max(len(series), 1)
    positions = list(range(len(labels)))
    width = 0.8 if stacked else 0.8 / n
    bottoms = [0.0] * len(labels)
    for i, (name, values) in enumerate(series.items()):
        values = [float(v or 0) for v in values]
        offset = 0.0 if stacked else (i - (n - 1) / 2) * width
        pos = [p + offset for p in positions]
        draw = ax.barh if horizontal else ax.bar
        kw = {"left": bottoms} if horizontal else {"bottom": bottoms}
        draw(pos, values, width, label=name, color=PALETTE[i % len(PALETTE)], **(kw if stacked else {}))
        if stacked:
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    value_axis = ax.xaxis if horizontal else ax.yaxis
    value_axis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # counts: no 2.5 条
    if horizontal:
        ax.set_yticks(positions, labels)
        ax.invert_yaxis()
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(ylabel)
    else:
        ax.set_xticks(positions, labels, rotation=30 if max((len(s) for s in labels), default=0) > 4 else 0,
                      ha="right" if max((len(s) for s in labels), default=0) > 4 else "center")
        ax.set_ylabel(ylabel)
    if len(series) > 1:
        ax.legend(frameon=False, fontsize=8, ncols=min(len(series), 4))
    return _png(fig)


def lines(labels: list[str], series: dict[str, list[float | None]], *, ylabel: str = "",
          percent: bool = False) -> bytes:
    """One line per series over the labels (months)."""
    fig, ax = _figure()
    for i, (name, values) in enumerate(series.items()):
        ax.plot(labels, [float(v) if v is not None else float("nan") for v in values], marker="o", markersize=3,
                label=name, color=PALETTE[i % len(PALETTE)])
    if percent:
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", rotation=30)
    if len(series) > 1:
        ax.legend(frameon=False, fontsize=8, ncols=min(len(series), 4))
    return _png(fig)
