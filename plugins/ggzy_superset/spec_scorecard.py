"""部门履职 (department scorecard): dataset, charts and dashboard, appended to spec.py's lists.

Kept apart from spec.py (already past the size a newcomer reads at once). The mart has one
row per department and month, quarter, half-year and year; the charts read the month rows
(so the dashboard's date range picks months) except the annual table, which reads the year
rows. Definitions of every count: dbt_project/models/marts/supervision/_department_scorecard.yml.
"""

from __future__ import annotations

from ggzy_superset import labels as L
from ggzy_superset.model import Calc, Chart, Dashboard, Dataset, Filter, Metric

MONTHS = "period_type = 'month'"

SCORECARD = Dataset(
    table="fct_department_scorecard",
    time_column="period_start",
    description="部门履职：各监管部门按月、季度、半年、年度的预警处置、办理时限、双随机检查与问题线索情况。",
    labels={"department_name": "监管部门", "period_start": "期间", "period_key": "期间", "alerts_received": "收到预警",
            "alerts_acknowledged": "已签收", "alerts_handled_in_time": "按期处置", "alerts_overdue": "处置超期",
            "alerts_verified": "核实属实", "alerts_dismissed": "核实排除", "alerts_transferred": "移送",
            "time_limit_items": "时限事项", "time_limit_breaches": "超时限", "time_limit_compliance_rate": "时限达标率",
            "inspections_assigned": "抽查对象", "inspections_done": "已检查",
            "inspections_published_on_time": "按时公示", "clues_opened": "新立线索", "clues_resolved": "办结线索"},
    calcs=[
        Calc("prefecture_name", "州市", L.prefecture_of_region("department_region_code")),
        Calc("period_type_name", "期间类型", L.case("period_type", {"month": "月", "quarter": "季度", "half": "半年",
                                                                    "year": "年度"})),
    ],
    metrics=[
        Metric("alerts_received", "收到预警", "sum(alerts_received)", ",d"),
        Metric("alerts_handled_in_time", "按期处置预警", "sum(alerts_handled_in_time)", ",d"),
        Metric("alerts_overdue", "处置超期预警", "sum(alerts_overdue)", ",d"),
        Metric("alerts_verified", "核实属实", "sum(alerts_verified)", ",d"),
        Metric("alerts_dismissed", "核实排除", "sum(alerts_dismissed)", ",d"),
        Metric("alerts_transferred", "移送", "sum(alerts_transferred)", ",d"),
        Metric("in_time_rate", "预警按期处置率",
               "sum(alerts_handled_in_time)::numeric / nullif(sum(alerts_received), 0)", ".1%"),
        Metric("time_limit_items", "时限事项", "sum(time_limit_items)", ",d"),
        Metric("time_limit_breaches", "超时限事项", "sum(time_limit_breaches)", ",d"),
        Metric("compliance_rate", "时限达标率",
               "1 - sum(time_limit_breaches)::numeric / nullif(sum(time_limit_items), 0)", ".1%"),
        Metric("inspections_assigned", "抽查对象", "sum(inspections_assigned)", ",d"),
        Metric("inspections_done", "已检查", "sum(inspections_done)", ",d"),
        Metric("inspections_published_on_time", "按时公示", "sum(inspections_published_on_time)", ",d"),
        Metric("clues_opened", "新立问题线索", "sum(clues_opened)", ",d"),
        Metric("clues_resolved", "办结问题线索", "sum(clues_resolved)", ",d"),
        Metric("departments", "有履职记录的部门", "count(distinct department_code)", ",d"),
    ],
)

T = "fct_department_scorecard"
CHARTS = [
    Chart("sc_departments", "有履职记录的部门", T, "big_number_total", metrics=["departments"], where=[MONTHS]),
    Chart("sc_alerts", "收到预警", T, "big_number_total", metrics=["alerts_received"], where=[MONTHS]),
    Chart("sc_in_time", "按期处置占收到预警", T, "big_number_total", metrics=["in_time_rate"], where=[MONTHS],
          number_format=".1%", description="按期处置的预警（已签收且各阶段均未超期）占收到预警的比例"),
    Chart("sc_compliance", "时限达标率（投诉、公示、抄送副场）", T, "big_number_total", metrics=["compliance_rate"],
          where=[MONTHS], number_format=".1%"),
    Chart("sc_clues", "新立问题线索", T, "big_number_total", metrics=["clues_opened"], where=[MONTHS]),
    Chart("sc_clues_resolved", "办结问题线索", T, "big_number_total", metrics=["clues_resolved"], where=[MONTHS]),
    Chart("sc_monthly", "每月预警处置", T, "echarts_timeseries_bar", x="period_start", time_grain="P1M",
          metrics=["alerts_received", "alerts_handled_in_time", "alerts_overdue"], where=[MONTHS]),
    Chart("sc_outcomes", "预警核查结果（按部门）", T, "echarts_timeseries_bar", x="department_name",
          metrics=["alerts_verified", "alerts_dismissed", "alerts_transferred"], where=[MONTHS],
          extra={"orientation": "horizontal", "stack": "Stack"}, row_limit=15),
    Chart("sc_table", "各部门履职情况（所选期间）", T, "table", groupby=["department_name"],
          metrics=["alerts_received", "alerts_handled_in_time", "alerts_overdue", "alerts_verified", "alerts_transferred",
                   "time_limit_items", "time_limit_breaches", "compliance_rate", "inspections_assigned",
                   "inspections_done", "inspections_published_on_time", "clues_opened", "clues_resolved"],
          where=[MONTHS], order_by=[("alerts_received", False)]),
    Chart("sc_annual", "年度述职：各部门全年履职", T, "table",
          columns=["period_key", "department_name", "alerts_received", "alerts_handled_in_time", "alerts_overdue",
                   "time_limit_items", "time_limit_breaches", "time_limit_compliance_rate", "inspections_done",
                   "clues_opened", "clues_resolved"],
          where=["period_type = 'year'"], order_by=[("period_key", False), ("alerts_received", False)]),
]

KPI = 25


def dashboard(filters: list[Filter]) -> Dashboard:
    return Dashboard(
        slug="scorecard",
        title="部门履职",
        description="部门履职：各监管部门收到与处置预警、办理时限、双随机检查公示、问题线索办结情况，供联合会商会议通报与年度述职。",
        filters=[f for f in filters if f.key != "category"],  # the scorecard has no trading category
        rows=[
            [("sc_departments", 2, KPI), ("sc_alerts", 2, KPI), ("sc_in_time", 2, KPI), ("sc_compliance", 2, KPI),
             ("sc_clues", 2, KPI), ("sc_clues_resolved", 2, KPI)],
            [("sc_monthly", 6, 60), ("sc_outcomes", 6, 60)],
            [("sc_table", 12, 70)],
            [("sc_annual", 12, 60)],
        ],
    )
