"""Sections on the market (价格、竞争、效率) and on the data the report rests on."""

from __future__ import annotations

from ggzy_superset import labels as L

from ggzy.report import charts
from ggzy.report.model import Chart, Section, Table, fmt
from ggzy.report.period import Period
from ggzy.report.query import MARKET_TOTALS, WAN, figures, months, rows

CONCENTRATION_ROWS = 10


def market(conn, p: Period) -> Section:
    s = Section("market", "市场分析")
    s.figures += figures(conn, MARKET_TOTALS, "marts.fct_market_monthly", p, [
        ("lots_awarded", "定标标段", "个"), ("savings_rate", "节资率", "%"), ("bidders_per_lot", "平均投标人数", "人"),
        ("single_bid_share", "单一有效投标定标占比", "%"), ("announcement_to_award_days", "公告至定标平均", "天")])
    by_category = rows(conn, f"""
        select category, sum(lots_announced) as lots, sum(lots_awarded) as awarded,
               round(coalesce(sum(award_price_total), 0) / {WAN}, 1) as award_wan,
               round(1 - sum(award_price_total) filter (where awarded_control_price_total > 0)
                     / nullif(sum(awarded_control_price_total), 0), 6) as savings_rate,
               round(sum(bidders_per_lot * lots_announced) filter (where bidders_per_lot is not null)
                     / nullif(sum(lots_announced) filter (where bidders_per_lot is not null), 0), 1) as bidders
        from marts.fct_market_monthly where month_start >= %(start)s and month_start < %(end)s
        group by category order by award_wan desc, category""", p)
    if by_category:
        s.tables.append(Table("价格与竞争（按交易类别）", "marts.fct_market_monthly",
                              ["交易类别", "公告标段", "定标标段", "中标金额（万元）", "节资率", "平均投标人数"],
                              [[L.CATEGORY.get(r["category"], r["category"]), fmt(r["lots"]), fmt(r["awarded"]),
                                fmt(r["award_wan"], "万元").replace(" 万元", ""), fmt(r["savings_rate"], "%"),
                                fmt(r["bidders"], "人").replace(" 人", "")] for r in by_category]))
    trend = rows(conn, """
        select to_char(month_start, 'YYYY-MM') as month,
               round(1 - sum(award_price_total) filter (where awarded_control_price_total > 0)
                     / nullif(sum(awarded_control_price_total), 0), 6) as savings_rate
        from marts.fct_market_monthly where month_start >= %(start)s and month_start < %(end)s
        group by month_start order by month_start""", months(p))
    if trend:
        s.charts.append(Chart("近十二个月节资率", "marts.fct_market_monthly", charts.lines(
            [r["month"] for r in trend], {"节资率": [r["savings_rate"] for r in trend]}, percent=True)))
    # concentration is kept by award year: the years the period touches
    conc = rows(conn, f"""
        select award_year, category, prefecture_name, lots_awarded, round(award_amount_total / {WAN}, 1) as award_wan,
               winner_count, top1_share, hhi
        from marts.fct_winner_concentration
        where has_enough_awards and award_year between extract(year from %(start)s::date)
                                                 and extract(year from %(end)s::date - 1)
        order by award_amount_total desc, award_year, category, prefecture_code
        limit {CONCENTRATION_ROWS}""", p)
    if conc:
        s.tables.append(Table(
            "中标集中度（中标人≥5或定标标段≥10的市场，按中标金额排序）", "marts.fct_winner_concentration",
            ["年度", "交易类别", "州市", "定标标段", "中标金额（万元）", "中标人数", "第一名份额", "HHI"],
            [[str(r["award_year"]), L.CATEGORY.get(r["category"], r["category"]), r["prefecture_name"] or "省本级",
              fmt(r["lots_awarded"]), fmt(r["award_wan"], "万元").replace(" 万元", ""), fmt(r["winner_count"]),
              fmt(r["top1_share"], "%"), fmt(r["hhi"])] for r in conc],
            note="HHI = Σ(份额%)²，0–10000；高于 2500 为高度集中。"))
    else:
        s.notes.append("本期所在年度没有中标人或定标标段足够多的市场，不计算集中度。")
    return s


# ------------------------------------------------------------------------------ 数据质量
QUALITY = """
    select count(*) as batches,
           count(*) filter (where status = 'refused') as refused,
           coalesce(sum(rows_loaded), 0) as rows_loaded,
           coalesce(sum(rows_quarantined), 0) as rows_quarantined,
           round(sum(rows_quarantined)::numeric / nullif(sum(rows_delivered), 0), 6) as quarantine_rate
    from marts.fct_batch_ledger
    where batch_date >= %(start)s and batch_date < %(end)s
"""
RUNS = """
    select count(*) as runs, count(*) filter (where tasks_failed > 0 or not coalesce(gate_passed, true)) as runs_flagged
    from marts.fct_run_ledger
    where batch_date >= %(start)s and batch_date < %(end)s
"""
FEEDS = {"trading_centre": "交易中心", "approval": "投资项目审批", "credit_china": "信用中国", "tax": "税务"}


def data_quality(conn, p: Period) -> Section:
    s = Section("data_quality", "数据质量")
    s.figures += figures(conn, QUALITY, "marts.fct_batch_ledger", p, [
        ("batches", "接收批次", "批"), ("refused", "拒收批次", "批"), ("rows_loaded", "入库记录", "行"),
        ("rows_quarantined", "隔离记录", "行"), ("quarantine_rate", "隔离率", "%")])
    s.figures += figures(conn, RUNS, "marts.fct_run_ledger", p, [
        ("runs", "夜间运行", "次"), ("runs_flagged", "有失败任务或未通过质量门的运行", "次")])
    by_rule = rows(conn, """
        select feed, rule, sum(rows_quarantined) as n from marts.fct_quarantine_by_rule
        where batch_date >= %(start)s and batch_date < %(end)s
        group by feed, rule order by n desc, feed, rule limit 10""", p)
    if by_rule:
        s.tables.append(Table("隔离原因（前十）", "marts.fct_quarantine_by_rule", ["数据源", "校验规则", "隔离行数"],
                              [[FEEDS.get(r["feed"], r["feed"]), r["rule"], fmt(r["n"])] for r in by_rule]))
    return s
