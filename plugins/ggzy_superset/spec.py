"""What the leaders' dashboards show: datasets (marts only), charts, dashboards.

`python -m ggzy_superset.author` turns this into dashboards/*.yaml.
Money is shown in 万元 or 亿元 as leaders read it; rates as percentages.
Dashboard filters: 日期范围, 州市, 交易类别, 监管部门 (the same column names on
every dataset, see labels.py); a filter skips the charts whose mart lacks its column.
"""

from __future__ import annotations

from ggzy_superset import labels as L
from ggzy_superset.author import Calc, Chart, Dashboard, Dataset, Filter, Metric

YI = 100000000.0  # 亿
WAN = 10000.0  # 万


def _calcs(prefecture: str | None = None, category: str | None = None, department: str | None = None,
           region: str | None = None) -> list[Calc]:
    out: list[Calc] = []
    if prefecture:
        out.append(Calc("prefecture_name", "州市", L.case(prefecture, {**L.prefectures(), "530000": "省本级"})))
    elif region:
        out.append(Calc("prefecture_name", "州市", L.prefecture_of_region(region)))
    if category:
        out.append(Calc("category_name", "交易类别", L.case(category, L.CATEGORY)))
    if department:
        out.append(Calc("department_name", "监管部门", L.case(department, L.departments())))
    return out


# ------------------------------------------------------------------------------ datasets
CLOSED_LOOP = Dataset(
    table="fct_closed_loop",
    time_column="announced_at",
    description="闭环监管事实表：每个标段一行（审批→招标→中标→合同→开工→竣工→验收→结算）。",
    labels={
        "tender_id": "标段编号",
        "tender_name": "标段名称",
        "project_code": "项目代码",
        "project_name": "项目名称",
        "announced_at": "公告时间",
        "award_date": "中标日期",
        "control_price": "招标控制价（元）",
        "award_price": "中标价（元）",
        "contract_amount": "合同金额（元）",
        "final_settlement_amount": "结算价（元）",
        "budget_amount": "预算价（元）",
        "flag_count": "闭环问题数",
        "flagged_rule_ids": "闭环问题规则",
        "bidder_count": "投标人数",
        "tender_status": "标段状态",
    },
    calcs=[
        *_calcs(prefecture="prefecture_code", category="category", department="supervising_department_code"),
        Calc("industry_name", "行业", L.case("industry", L.INDUSTRY)),
        Calc("flagged_rules_zh", "闭环问题", "coalesce(" + " || ".join(
            f"case when {r} then '{L.rules()[r]}；' else '' end" for r in
            ("cl_no_approval", "cl_award_above_control", "cl_contract_deviation", "cl_start_before_award",
             "cl_settlement_overrun", "cl_stage_overdue", "cl_broken_link")) + ", '')"),
    ],
    metrics=[
        Metric("tender_count", "标段数", "count(*)", ",d"),
        Metric("awarded_count", "已中标标段数", "count(*) filter (where award_date is not null)", ",d"),
        Metric("control_price_yi", "招标控制价（亿元）", f"sum(control_price) / {YI}", ",.2f"),
        Metric("award_amount_yi", "中标金额（亿元）", f"sum(award_price) filter (where award_date is not null) / {YI}",
               ",.2f"),
        Metric("savings_yi", "节约资金（亿元）",
               f"sum(control_price - award_price) filter (where award_date is not null and award_price is not null"
               f" and control_price > 0) / {YI}", ",.2f"),
        Metric("savings_rate", "节资率",
               "1 - sum(award_price) filter (where award_date is not null and award_price is not null and control_price > 0)"
               " / nullif(sum(control_price) filter (where award_date is not null and award_price is not null"
               " and control_price > 0), 0)", ".2%"),
        Metric("flagged_count", "闭环问题标段数", "count(*) filter (where flag_count > 0)", ",d"),
        Metric("flagged_share", "闭环问题标段占比", "avg((flag_count > 0)::int)", ".1%"),
        Metric("avg_bidders", "平均投标人数", "avg(bidder_count) filter (where bidder_count > 0)", ",.1f"),
        Metric("contract_amount_yi", "合同金额（亿元）", f"sum(contract_amount) / {YI}", ",.2f"),
        Metric("settlement_amount_yi", "结算金额（亿元）", f"sum(final_settlement_amount) / {YI}", ",.2f"),
        *[Metric(f"n_{r}", L.rules()[r], f"count(*) filter (where {r})", ",d") for r in
          ("cl_no_approval", "cl_award_above_control", "cl_contract_deviation", "cl_start_before_award",
           "cl_settlement_overrun", "cl_stage_overdue", "cl_broken_link")],
    ],
)

DATASETS: list[Dataset] = [CLOSED_LOOP]

# ------------------------------------------------------------------------------ charts
CHARTS: list[Chart] = [
    # 总览
    Chart("ov_tenders", "交易标段数", "fct_closed_loop", "big_number_total", metrics=["tender_count"]),
    Chart("ov_award_amount", "中标金额（亿元）", "fct_closed_loop", "big_number_total", metrics=["award_amount_yi"],
          number_format=",.2f"),
    Chart("ov_savings", "节约资金（亿元）", "fct_closed_loop", "big_number_total", metrics=["savings_yi"],
          number_format=",.2f", description="招标控制价减中标价，仅计已中标且有控制价的标段"),
    Chart("ov_savings_rate", "节资率", "fct_closed_loop", "big_number_total", metrics=["savings_rate"],
          number_format=".2%"),
    Chart("ov_flagged", "闭环问题标段", "fct_closed_loop", "big_number_total", metrics=["flagged_count"]),
    Chart("ov_trend", "月度交易趋势（按公告月份）", "fct_closed_loop", "echarts_timeseries_bar",
          x="announced_at", time_grain="P1M", metrics=["tender_count", "awarded_count"]),
    Chart("ov_amount_trend", "月度中标金额与节约资金（亿元）", "fct_closed_loop", "echarts_timeseries_line",
          x="announced_at", time_grain="P1M", metrics=["award_amount_yi", "savings_yi"], number_format=",.2f"),
    Chart("ov_category_pie", "交易类别构成（中标金额）", "fct_closed_loop", "pie", metrics=["award_amount_yi"],
          groupby=["category_name"], number_format=",.2f"),
    Chart("ov_prefecture_bar", "各州市中标金额（亿元）", "fct_closed_loop", "echarts_timeseries_bar",
          x="prefecture_name", metrics=["award_amount_yi"], number_format=",.2f",
          extra={"orientation": "horizontal"}),
    Chart("ov_prefecture_table", "各州市交易概况", "fct_closed_loop", "table", groupby=["prefecture_name"],
          metrics=["tender_count", "award_amount_yi", "savings_rate", "flagged_count"],
          order_by=[("award_amount_yi", False)], row_limit=20),
]

# ------------------------------------------------------------------------------ dashboards
DATE = Filter("date", "日期范围", "time")
PREFECTURE = Filter("prefecture", "州市", "select", "prefecture_name", dataset="fct_closed_loop")
CATEGORY = Filter("category", "交易类别", "select", "category_name", dataset="fct_closed_loop")
DEPARTMENT = Filter("department", "监管部门", "select", "department_name", dataset="fct_closed_loop")
FILTERS = [DATE, PREFECTURE, CATEGORY, DEPARTMENT]

DASHBOARDS: list[Dashboard] = [
    Dashboard(
        slug="overview",
        title="总览",
        description="全省公共资源交易总览：交易量、金额、节约资金、闭环问题与趋势。",
        filters=FILTERS,
        rows=[
            [("ov_tenders", 3, 25), ("ov_award_amount", 3, 25), ("ov_savings", 2, 25), ("ov_savings_rate", 2, 25),
             ("ov_flagged", 2, 25)],
            [("ov_trend", 6), ("ov_amount_trend", 6)],
            [("ov_prefecture_bar", 5, 70), ("ov_prefecture_table", 4, 70), ("ov_category_pie", 3, 70)],
        ],
    ),
]
