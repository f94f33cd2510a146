"""The report's sections in order: each a function (connection, period) -> Section.

Every number is computed by the section's queries, named after the mart they read; the
PDF prints exactly these (tests compare them with the marts). Periods are half-open date
ranges [start, end); a lot counts in the month it was announced (the market marts'
rule), a signal by its signal date, a time-limit item by its start date.
"""

from __future__ import annotations

from ggzy.report import charts
from ggzy.report.model import Chart, Section
from ggzy.report.period import Period
from ggzy.report.query import MARKET_TOTALS, SCORECARD_TOTALS, SIGNAL_TOTALS, YI, figures, months, rows


# ------------------------------------------------------------------------------ 总体情况
def overview(conn, p: Period) -> Section:
    s = Section("overview", "总体情况")
    s.figures += figures(conn, MARKET_TOTALS, "marts.fct_market_monthly", p, [
        ("lots_announced", "公告标段", "个"), ("lots_awarded", "定标标段", "个"),
        ("award_amount_yi", "中标金额", "亿元"), ("savings_rate", "节资率", "%")])
    s.figures += figures(conn, SIGNAL_TOTALS, "marts.fct_risk_signals", p, [
        ("signals", "风险信号", "条"), ("high_signals", "其中高风险", "条")])
    s.figures += figures(conn, SCORECARD_TOTALS, "marts.fct_department_scorecard", p, [
        ("alerts_received", "推送各部门预警", "条")])
    trend = rows(conn, """
        select to_char(month_start, 'YYYY-MM') as month, sum(lots_announced) as lots,
               round(sum(award_price_total) / %(yi)s, 2) as award_yi
        from marts.fct_market_monthly
        where month_start >= %(start)s and month_start < %(end)s
        group by month_start order by month_start""".replace("%(yi)s", str(YI)), months(p))
    if trend:
        s.charts.append(Chart("近十二个月公告标段数（个）", "marts.fct_market_monthly",
                              charts.bars([r["month"] for r in trend], {"公告标段": [r["lots"] for r in trend]},
                                          ylabel="个")))
    return s


def _all():
    from ggzy.report import market, supervision

    return [overview, supervision.risk, supervision.closed_loop, supervision.credit, supervision.time_limits,
            supervision.sampling, supervision.special_inspections, market.market, supervision.scorecard, market.data_quality]


def build(conn, p: Period) -> list[Section]:
    """Every section of the report for period p, in the order printed."""
    return [section(conn, p) for section in _all()]
