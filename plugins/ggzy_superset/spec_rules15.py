"""Issue 15 on the dashboards: the alert volume on 风险预警 (share of lots with an alert, and
with a high-severity one), time-limit results resting on a provisional holiday calendar on
投诉举报与时限, and the department codes of the feeds with their routing on 数据运行 (an
unknown code is listed there, and fails the dbt build). Appended to spec.py's lists.
Definitions: fct_lot_alert_volume, fct_time_limits.is_provisional, fct_department_code_routing.
"""

from __future__ import annotations

from ggzy_superset import labels as L
from ggzy_superset.model import Calc, Chart, Dataset, Metric

KPI = 25

ALERT_VOLUME = Dataset(
    table="fct_lot_alert_volume",
    time_column="announced_at",
    description="预警量：每个标段一行，是否有预警、是否有高风险预警（预警清单的长度）。",
    labels={"tender_id": "标段编号", "announced_at": "公告时间", "n_alerts": "预警数", "n_high_alerts": "高风险预警数"},
    calcs=[
        Calc("prefecture_name", "州市", L.case("prefecture_code", {**L.prefectures(), "530000": "省本级"})),
        Calc("category_name", "交易类别", L.case("category", L.CATEGORY)),
        Calc("department_name", "监管部门", L.case("supervising_department_code", L.departments())),
    ],
    metrics=[
        Metric("lot_count", "标段数", "count(*)", ",d"),
        Metric("alert_lot_share", "有预警标段占比", "avg(has_alert::int)", ".1%"),
        Metric("high_alert_lot_share", "有高风险预警标段占比", "avg(has_high_alert::int)", ".1%"),
    ],
)

DEPARTMENT_CODES = Dataset(
    table="fct_department_code_routing",
    time_column=None,
    description="部门代码路由：数据中出现的每个部门代码及其对应的部门；未识别的代码须登记（seeds/department_code_aliases.csv）。",
    labels={"delivered_code": "数据中的部门代码", "department_name_zh": "路由到的部门", "status_zh": "状态",
            "n_references": "引用次数", "n_complaints": "投诉举报件", "n_cases": "处理决定", "code_roles": "字段"},
    metrics=[
        Metric("code_count", "部门代码数", "count(distinct delivered_code)", ",d"),
        Metric("unknown_count", "未识别部门代码", "count(distinct delivered_code) filter (where is_unknown)", ",d"),
    ],
)

DATASETS = [ALERT_VOLUME, DEPARTMENT_CODES]

# fct_time_limits (spec.TIME_LIMITS) gains these
TIME_LIMIT_METRICS = [
    Metric("provisional_count", "临时推定日历的时限结果",
           "count(*) filter (where is_provisional)", ",d"),
]
TIME_LIMIT_LABELS = {"calendar_basis_zh": "日历依据"}

CHARTS = [
    Chart("rk_alert_share", "有预警标段占比", "fct_lot_alert_volume", "big_number_total", metrics=["alert_lot_share"],
          number_format=".1%"),
    Chart("rk_high_share", "有高风险预警标段占比", "fct_lot_alert_volume", "big_number_total",
          metrics=["high_alert_lot_share"], number_format=".1%"),
    Chart("rk_share_by_prefecture", "各州市有预警标段占比", "fct_lot_alert_volume", "table", groupby=["prefecture_name"],
          metrics=["lot_count", "alert_lot_share", "high_alert_lot_share"], order_by=[("alert_lot_share", False)]),
    Chart("tl_provisional", "临时推定日历的时限结果", "fct_time_limits", "big_number_total",
          metrics=["provisional_count"],
          description="该年国务院节假日安排通知尚未录入（seeds/calendar_overrides.csv），按法定节假日推定计算，通知录入后重算。"),
    Chart("tl_provisional_list", "依据临时推定日历的时限结果", "fct_time_limits", "table",
          columns=["rule_name", "item_id", "department_name", "start_date", "due_date", "status_name",
                   "calendar_basis_zh"],
          where=["is_provisional"], order_by=[("due_date", True)], may_be_empty=True),
    Chart("op_department_codes", "部门代码路由（未识别代码排在最前）", "fct_department_code_routing", "table",
          columns=["delivered_code", "status_zh", "department_name_zh", "n_references", "n_complaints", "n_cases",
                   "code_roles"],
          order_by=[("status_zh", False), ("n_references", False)], row_limit=200),
    Chart("op_unknown_codes", "未识别部门代码", "fct_department_code_routing", "big_number_total",
          metrics=["unknown_count"]),
]

RISK_ROWS = [[("rk_alert_share", 4, KPI), ("rk_high_share", 4, KPI), ("rk_share_by_prefecture", 4, 50)]]
TIME_LIMIT_ROWS = [[("tl_provisional", 3, KPI), ("tl_provisional_list", 9, 50)]]
DATA_OPS_ROWS = [[("op_unknown_codes", 3, KPI), ("op_department_codes", 9, 50)]]
