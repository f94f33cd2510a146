"""监管闭环 (issue 20): what happens after an alert — handling deadlines, notifications, the
problem-clue register with joint verification and transfers, special inspections, credit
records — as datasets, charts and a dashboard appended to spec.py's lists; and the overdue
alerts on the 风险预警 dashboard.

Kept apart from spec.py (past the size a newcomer reads at once). Every mart here is a view
over the case files in ops (dbt_project/models/marts/supervision), so the numbers are those
of the moment. Definitions: dbt_project/models/marts/supervision/_supervision__models.yml.
"""

from __future__ import annotations

from ggzy_superset import labels as L
from ggzy_superset.model import Calc, Chart, Dashboard, Dataset, Filter, Metric

ALERT_HANDLING = Dataset(
    table="fct_alert_handling",
    time_column="raised_at",
    description="预警处置时限：每条预警每个处置阶段（签收、核查、移送）一行，含工作日时限、期限、办理人与是否超期。",
    labels={"alert_id": "预警编号", "rule_name_zh": "预警规则", "department_name": "责任部门", "stage_zh": "处置阶段",
            "stage_status_zh": "办理状态", "alert_status_zh": "预警状态", "due_date": "办理期限",
            "limit_workdays": "时限（工作日）", "workdays_overdue": "超期工作日", "done_by": "办理人",
            "raised_at": "预警时间", "tender_id": "标段编号", "severity_zh": "风险等级"},
    calcs=[Calc("prefecture_name", "州市", L.prefecture_of_region("department_region_code"))],
    metrics=[
        Metric("alert_count", "预警数", "count(distinct alert_id)", ",d"),
        Metric("open_overdue", "超期未办", "count(*) filter (where stage_status = 'open_overdue')", ",d"),
        Metric("late", "超期办结", "count(*) filter (where stage_status = 'late')", ",d"),
        Metric("on_time", "按期办结", "count(*) filter (where stage_status = 'on_time')", ",d"),
        Metric("open", "办理中", "count(*) filter (where stage_status = 'open')", ",d"),
        Metric("notified", "已通知部门的预警", "count(distinct alert_id) filter (where is_notified)", ",d"),
        Metric("on_time_rate", "按期办结率",
               "count(*) filter (where stage_status = 'on_time')::numeric"
               " / nullif(count(*) filter (where stage_status in ('on_time', 'late')), 0)", ".1%"),
    ],
)

CLUES = Dataset(
    table="fct_clues",
    time_column="registered_at",
    description="问题线索登记簿：来源、牵头与联合核查部门、移送与回执、处理决定、当前阶段期限。",
    labels={"clue_id": "线索编号", "source_type_zh": "线索来源", "title": "线索", "status_zh": "状态",
            "lead_department_name": "牵头部门", "joint_department_names": "联合核查部门",
            "transfer_targets_zh": "移送机关", "open_stage_zh": "当前阶段", "open_stage_due_date": "办理期限",
            "registered_at": "登记时间", "registered_by": "登记人", "decision_ids": "处理决定"},
    calcs=[
        Calc("prefecture_name", "州市", L.prefecture_of_region("lead_region_code")),
        Calc("department_name", "监管部门", "lead_department_name"),
    ],
    metrics=[
        Metric("clue_count", "问题线索", "count(*)", ",d"),
        Metric("joint_count", "联合核查线索", "count(*) filter (where is_joint_verification)", ",d"),
        Metric("transferred_count", "移送线索", "count(*) filter (where n_transfers > 0)", ",d"),
        Metric("overdue_count", "超期未办线索", "count(*) filter (where is_overdue)", ",d"),
        Metric("concluded_count", "已办结线索", "count(*) filter (where status = 'concluded')", ",d"),
    ],
)

TRANSFERS = Dataset(
    table="fct_clue_transfers",
    time_column="transferred_at",
    description="线索移送：移送纪检监察、公安、检察、法院，回执与办理结果。",
    labels={"clue_id": "线索编号", "title": "线索", "target_zh": "移送机关", "reference_no": "移送函文号",
            "transferred_at": "移送时间", "transferred_by": "移送人", "receipt_at": "回执时间", "receipt_by": "签收人",
            "outcome": "办理结果", "outcome_at": "结果反馈时间", "transfer_status_zh": "状态"},
    metrics=[
        Metric("transfer_count", "移送", "count(*)", ",d"),
        Metric("receipt_count", "已回执", "count(receipt_at)", ",d"),
        Metric("outcome_count", "已反馈结果", "count(outcome_at)", ",d"),
    ],
)

CREDIT_RECORDS = Dataset(
    table="fct_bad_conduct_records",
    time_column="decided_at",
    description="不良行为记录：处理决定、记分、公示期与信用修复后撤销公示。",
    labels={"record_id": "记录编号", "subject_name": "当事人", "subject_type_zh": "当事人类型",
            "violation_zh": "违法违规行为", "score": "记分", "penalty": "处理结果", "decided_by_name": "处理部门",
            "decided_on": "处理日期", "publish_until": "公示截止", "credit_repaired_on": "信用修复日期"},
    calcs=[
        Calc("notice_status_zh", "公示状态", L.case("notice_status", {"published": "公示中", "withdrawn": "信用修复撤销",
                                                                     "expired": "公示期满"})),
        Calc("department_name", "监管部门", "decided_by_name"),
        Calc("prefecture_name", "州市", L.prefecture_of_region("decided_by")),
    ],
    metrics=[
        Metric("record_count", "不良行为记录", "count(*)", ",d"),
        Metric("score_sum", "记分合计", "sum(score)", ",d"),
        Metric("published_count", "公示中", "count(*) filter (where notice_status = 'published')", ",d"),
        Metric("withdrawn_count", "信用修复撤销公示", "count(*) filter (where notice_status = 'withdrawn')", ",d"),
    ],
)

INSPECTIONS = Dataset(
    table="fct_special_inspection_findings",
    time_column="period_start",
    description="专项检查：检查范围、参加部门、检查对象与发现的问题，问题转为线索。",
    labels={"inspection_id": "编号", "title": "专项检查", "scope": "检查范围", "department_names": "参加部门",
            "period_start": "开始", "period_end": "结束", "target_type_zh": "对象类型", "target_id": "检查对象",
            "finding": "检查发现", "found_on": "发现日期", "clue_id": "问题线索"},
    calcs=[
        Calc("prefecture_name", "州市", L.prefecture_of_region("lead_region_code")),
        Calc("department_name", "监管部门", "lead_department_name"),
    ],
    metrics=[
        Metric("campaign_count", "专项检查", "count(distinct inspection_id)", ",d"),
        Metric("target_count", "检查对象", "count(distinct inspection_id || target_type || target_id)", ",d"),
        Metric("problem_count", "发现问题", "count(*) filter (where is_problem)", ",d"),
    ],
)

DATASETS = [ALERT_HANDLING, CLUES, TRANSFERS, CREDIT_RECORDS, INSPECTIONS]

AH, CL, TR, CR, SI = (d.table for d in DATASETS)
CHARTS = [
    # on 风险预警: the alerts whose handling is late
    Chart("rk_alert_overdue", "超期未办预警（阶段）", AH, "big_number_total", metrics=["open_overdue"],
          description="签收、核查或移送超过工作日时限仍未办理的预警阶段"),
    Chart("rk_alert_on_time", "已办结阶段按期率", AH, "big_number_total", metrics=["on_time_rate"], number_format=".1%",
          description="已办结的签收、核查、移送阶段中按期办结的比例；办理中的阶段不计（部门履职看板的按期处置占比以收到预警为分母）"),
    Chart("rk_alert_overdue_list", "超期未办预警", AH, "table",
          columns=["alert_id", "rule_name_zh", "severity_zh", "department_name", "stage_zh", "due_date",
                   "workdays_overdue", "raised_at"],
          where=["stage_status = 'open_overdue'"], order_by=[("workdays_overdue", False)], may_be_empty=True),
    # 监管闭环
    Chart("sv_notified", "已通知部门的预警", AH, "big_number_total", metrics=["notified"]),
    Chart("sv_overdue", "超期未办预警阶段", AH, "big_number_total", metrics=["open_overdue"]),
    Chart("sv_clues", "问题线索", CL, "big_number_total", metrics=["clue_count"]),
    Chart("sv_joint", "联合核查线索", CL, "big_number_total", metrics=["joint_count"]),
    Chart("sv_transfers", "移送线索", CL, "big_number_total", metrics=["transferred_count"]),
    Chart("sv_records", "不良行为记录", CR, "big_number_total", metrics=["record_count"]),
    Chart("sv_stages", "预警处置各阶段办理情况", AH, "echarts_timeseries_bar", x="stage_zh",
          metrics=["on_time", "late", "open", "open_overdue"], extra={"stack": "Stack"}),
    Chart("sv_clue_sources", "问题线索来源", CL, "pie", metrics=["clue_count"], groupby=["source_type_zh"]),
    Chart("sv_clue_list", "问题线索登记簿", CL, "table",
          columns=["clue_id", "source_type_zh", "title", "status_zh", "lead_department_name", "joint_department_names",
                   "transfer_targets_zh", "open_stage_zh", "open_stage_due_date", "registered_at"],
          order_by=[("registered_at", False)], may_be_empty=True),
    Chart("sv_transfer_list", "线索移送、回执与办理结果", TR, "table",
          columns=["clue_id", "target_zh", "reference_no", "transferred_at", "transferred_by", "receipt_at",
                   "receipt_by", "outcome", "outcome_at", "transfer_status_zh"],
          order_by=[("transferred_at", False)], may_be_empty=True),
    Chart("sv_inspections", "专项检查与发现的问题", SI, "table",
          columns=["inspection_id", "title", "department_names", "period_start", "period_end", "target_type_zh",
                   "target_id", "finding", "found_on", "clue_id"],
          order_by=[("period_start", False)], may_be_empty=True),
    Chart("sv_credit_records", "不良行为记录与记分", CR, "table",
          columns=["record_id", "subject_name", "subject_type_zh", "violation_zh", "score", "penalty",
                   "decided_by_name", "decided_on", "publish_until", "notice_status_zh", "credit_repaired_on"],
          order_by=[("decided_on", False)]),
]

KPI = 25
# rows added to the 风险预警 dashboard of spec.py
RISK_ROWS = [
    [("rk_alert_overdue", 6, KPI), ("rk_alert_on_time", 6, KPI)],
    [("rk_alert_overdue_list", 12, 50)],
]


def dashboard(filters: list[Filter]) -> Dashboard:
    return Dashboard(
        slug="supervision",
        title="监管闭环",
        description="监管闭环：预警通知与处置时限、问题线索（联合核查、移送与回执）、专项检查、不良行为记录与记分。",
        filters=[f for f in filters if f.key != "category"],  # clues and records have no trading category
        rows=[
            [("sv_notified", 2, KPI), ("sv_overdue", 2, KPI), ("sv_clues", 2, KPI), ("sv_joint", 2, KPI),
             ("sv_transfers", 2, KPI), ("sv_records", 2, KPI)],
            [("sv_stages", 7, 55), ("sv_clue_sources", 5, 55)],
            [("sv_clue_list", 12, 70)],
            [("sv_transfer_list", 12, 50)],
            [("sv_inspections", 12, 50)],
            [("sv_credit_records", 12, 60)],
        ],
    )
