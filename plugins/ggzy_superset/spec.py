"""What the leaders' dashboards show: the dashboards, their filters and layout, and the
lists author.py writes (`python -m ggzy_superset.author` turns them into dashboards/*.yaml).

The parts: spec_datasets.py (marts, labels, metrics), spec_charts.py (the charts of the
first eight dashboards), spec_supervision.py (监管闭环), spec_scorecard.py (部门履职),
spec_rules15.py (alert volume, provisional time limits, department codes). Dashboard
filters: 日期范围, 州市, 交易类别, 监管部门; a filter skips the charts whose mart lacks its column.
"""

from __future__ import annotations

from ggzy_superset import spec_charts, spec_datasets
from ggzy_superset import spec_rules15 as _rules15
from ggzy_superset import spec_scorecard as _scorecard
from ggzy_superset import spec_supervision as _supervision
from ggzy_superset.model import Chart, Dashboard, Dataset, Filter

DATE = Filter("date", "日期范围", "time")
PREFECTURE = Filter("prefecture", "州市", "select", "prefecture_name")
CATEGORY = Filter("category", "交易类别", "select", "category_name")
DEPARTMENT = Filter("department", "监管部门", "select", "department_name")
FILTERS = [DATE, PREFECTURE, CATEGORY, DEPARTMENT]
KPI = 25  # height of a row of big numbers

DASHBOARDS: list[Dashboard] = [
    Dashboard(
        slug="overview",
        title="总览",
        description="全省公共资源交易总览：交易量、金额、节约资金、预警与闭环问题、趋势。",
        filters=FILTERS,
        rows=[
            [("ov_tenders", 2, KPI), ("ov_award_amount", 2, KPI), ("ov_savings", 2, KPI), ("ov_savings_rate", 2, KPI),
             ("ov_alerts_high", 2, KPI), ("ov_flagged", 2, KPI)],
            [("ov_trend", 6), ("ov_amount_trend", 6)],
            [("ov_alerts_trend", 8), ("ov_alerts_severity", 4)],
            [("ov_prefecture_bar", 4, 70), ("ov_prefecture_table", 4, 70), ("ov_category_pie", 4, 70)],
        ],
    ),
    Dashboard(
        slug="risk",
        title="风险预警",
        description="风险预警：按规则、州市、监管部门的预警，风险最高的标段与主体，重点监管名单。",
        filters=FILTERS,
        rows=[
            [("rk_signals", 3, KPI), ("rk_high", 3, KPI), ("rk_tenders", 3, KPI), ("rk_watch_count", 3, KPI)],
            [("rk_by_rule", 8, 70), ("rk_by_group", 4, 70)],
            [("rk_by_prefecture", 7, 60), ("rk_by_department", 5, 60)],
            [("rk_level_tenders", 4, 60), ("rk_top_entities", 8, 60)],
            [("rk_top_tenders", 12, 70)],
            [("rk_watch_list", 12, 50)],
        ],
    ),
    Dashboard(
        slug="closed-loop",
        title="闭环监管",
        description="闭环监管：预算/控制价→中标→合同→结算的资金链条，超概算、超合同与断链问题。",
        filters=FILTERS,
        rows=[
            [("cl_flagged", 3, KPI), ("cl_flagged_share", 3, KPI), ("cl_unlinked", 3, KPI), ("cl_overrun", 3, KPI)],
            [("cl_amounts", 6, 60), ("cl_rules", 6, 60)],
            [("cl_rule_table", 12, 60)],
            [("cl_flagged_list", 12, 80)],
            [("cl_unlinked_list", 12, 50)],
        ],
    ),
    Dashboard(
        slug="credit",
        title="信用监管",
        description="信用监管：失信主体参与投标、税务异常、信用记录与信用修复。",
        filters=FILTERS,
        rows=[
            [("cr_banned", 2, KPI), ("cr_dishonest", 2, KPI), ("cr_tax", 2, KPI), ("cr_repaired", 2, KPI),
             ("cr_violations", 4, KPI)],
            [("cr_list_types", 7, 55), ("cr_status", 5, 55)],
            [("cr_entity_status", 12, 60)],
            [("cr_records", 12, 60)],
        ],
    ),
    Dashboard(
        slug="time-limits",
        title="投诉举报与时限",
        description="投诉举报转办与答复、远程异地评标抄送、中标公示的工作日时限执行情况。",
        filters=FILTERS,
        rows=[
            [("tl_items", 2, KPI), ("tl_complaints", 3, KPI), ("tl_breach", 2, KPI), ("tl_open_overdue", 2, KPI),
             ("tl_on_time", 3, KPI)],
            [("tl_by_rule", 8, 55), ("tl_status", 4, 55)],
            [("tl_by_department", 12, 60)],
            [("tl_overdue_list", 12, 70)],
        ],
    ),
    Dashboard(
        slug="sampling",
        title="双随机一公开",
        description="双随机抽查：抽取批次、检查与公示进度、检查结论、抽查对象库。",
        filters=FILTERS,
        rows=[
            [("sp_draws", 3, KPI), ("sp_selected", 3, KPI), ("sp_progress", 3, KPI), ("sp_overdue", 3, KPI)],
            [("sp_by_matter", 6, 55), ("sp_outcomes", 3, 55), ("sp_pool", 3, 55)],
            [("sp_list", 12, 80)],
        ],
    ),
    Dashboard(
        slug="market",
        title="市场分析",
        description="市场分析：竞争程度、中标集中度、各类别价格与效率，按州市与月份。",
        filters=FILTERS,
        rows=[
            [("mk_lots", 3, KPI), ("mk_bidders", 3, KPI), ("mk_single", 3, KPI), ("mk_hhi", 3, KPI)],
            [("mk_monthly", 6, 60), ("mk_competition", 6, 60)],
            [("mk_heatmap", 6, 80), ("mk_treemap", 6, 80)],
            [("mk_price", 12, 45)],
            [("mk_concentration", 12, 60)],
        ],
    ),
    Dashboard(
        slug="data-ops",
        title="数据运行",
        description="数据工程：各数据源批次台账、入库与隔离行数、拒收原因（面向数据工程师）。",
        filters=[DATE],
        rows=[
            [("op_batches", 3, KPI), ("op_refused", 3, KPI), ("op_loaded", 3, KPI), ("op_quarantined", 3, KPI)],
            [("op_daily", 7, 60), ("op_quarantine_rules", 5, 60)],
            [("op_by_feed", 12, 40)],
            [("op_refusals", 12, 50)],
        ],
    ),
]

# The later dashboards' datasets and charts join the lists (in this order: the placeholder
# chart ids of the YAML follow it); their rows join the dashboards above.
DATASETS: list[Dataset] = [*spec_datasets.DATASETS, *_supervision.DATASETS, _scorecard.SCORECARD,
                           *_rules15.DATASETS]
CHARTS: list[Chart] = [*spec_charts.CHARTS, *_supervision.CHARTS, *_scorecard.CHARTS, *_rules15.CHARTS]
DASHBOARDS += [_supervision.dashboard(FILTERS), _scorecard.dashboard(FILTERS)]
spec_datasets.TIME_LIMITS.metrics.extend(_rules15.TIME_LIMIT_METRICS)
spec_datasets.TIME_LIMITS.labels.update(_rules15.TIME_LIMIT_LABELS)
for _slug, _rows in (("risk", _supervision.RISK_ROWS), ("risk", _rules15.RISK_ROWS),
                     ("time-limits", _rules15.TIME_LIMIT_ROWS), ("data-ops", _rules15.DATA_OPS_ROWS)):
    next(d for d in DASHBOARDS if d.slug == _slug).rows.extend(_rows)
