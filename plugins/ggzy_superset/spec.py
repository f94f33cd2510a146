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
        Metric("control_price_yi", "招标控制价（亿元）", f"coalesce(sum(control_price), 0) / {YI}", ",.2f"),
        Metric("award_amount_yi", "中标金额（亿元）",
               f"coalesce(sum(award_price) filter (where award_date is not null), 0) / {YI}",
               ",.2f"),
        Metric("savings_yi", "节约资金（亿元）",
               f"coalesce(sum(control_price - award_price) filter (where award_date is not null and award_price is not null"
               f" and control_price > 0), 0) / {YI}", ",.2f"),
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


SIGNALS = Dataset(
    table="fct_risk_signals",
    time_column="signal_date",
    description="风险信号：每条规则命中一行（标段、主体、投诉或案件）。",
    labels={"rule_name_zh": "预警规则", "signal_date": "预警日期", "tender_id": "标段编号", "score": "风险分",
            "legal_basis": "法律依据", "subject_id": "对象编号"},
    calcs=[
        Calc("prefecture_name", "州市", L.case("left(department_code, 6)", {**L.prefectures(), "530000": "省本级"})),
        Calc("department_name", "监管部门", "department_name_zh"),
        Calc("severity_name", "严重程度", L.case("severity", L.SEVERITY)),
        Calc("rule_group_name", "规则类别", L.case("rule_group", L.RULE_GROUP)),
    ],
    metrics=[
        Metric("signal_count", "预警数", "count(*)", ",d"),
        Metric("high_count", "高风险预警数", "count(*) filter (where severity = 'high')", ",d"),
        Metric("tenders_signalled", "涉及标段数", "count(distinct tender_id)", ",d"),
        Metric("credit_signal_count", "信用类预警数", "count(*) filter (where rule_group = 'credit')", ",d"),
    ],
)

TENDER_RISK = Dataset(
    table="fct_tender_risk",
    time_column="lot_date",
    description="标段风险评分：每个标段一行，汇总其全部风险信号。",
    labels={"tender_id": "标段编号", "risk_score": "风险分", "n_signals": "信号数", "n_high_severity": "高风险信号数",
            "explanation_text": "风险说明", "lot_date": "日期", "n_bidders": "投标人数"},
    calcs=[
        *_calcs(prefecture="prefecture_code", category="category", department="department_code"),
        Calc("risk_level_name", "风险等级", L.case("risk_level", {"high": "高", "medium": "中", "low": "低", "none": "无"})),
    ],
    metrics=[
        Metric("tender_count", "标段数", "count(*)", ",d"),
        Metric("risky_tenders", "有风险信号的标段", "count(*) filter (where n_signals > 0)", ",d"),
        Metric("avg_risk_score", "平均风险分", "avg(risk_score)", ",.1f"),
        Metric("max_risk_score", "最高风险分", "max(risk_score)", ",.1f"),
    ],
)

ENTITY_RISK = Dataset(
    table="fct_entity_risk",
    time_column="last_signal_date",
    description="市场主体风险评分：每个有风险信号的主体一行。",
    labels={"entity_name": "主体名称", "entity_id": "统一社会信用代码", "risk_score": "风险分", "n_signals": "信号数",
            "n_lots": "涉及标段数", "n_rules": "命中规则数", "explanation_text": "风险说明",
            "last_signal_date": "最近预警日期"},
    calcs=[
        Calc("prefecture_name", "州市", L.prefecture_of_region("region_code")),
        Calc("risk_level_name", "风险等级", L.case("risk_level", {"high": "高", "medium": "中", "low": "低", "none": "无"})),
        Calc("entity_label", "市场主体", "coalesce(nullif(entity_name, ''), entity_id)"),
    ],
    metrics=[
        Metric("entity_count", "主体数", "count(*)", ",d"),
        Metric("max_risk_score", "风险分", "max(risk_score)", ",.1f"),
        Metric("signal_sum", "信号数", "sum(n_signals)", ",d"),
        Metric("lots_sum", "涉及标段数", "sum(n_lots)", ",d"),
    ],
)

WATCH = Dataset(
    table="fct_key_watch_list",
    time_column=None,
    description="重点监管名单：经核实的预警反复涉及的主体与专家。",
    labels={"party_id": "编号", "n_verified_alerts": "核实预警数", "n_lots_with_signals": "涉及标段数",
            "first_signal_date": "首次预警", "last_signal_date": "最近预警"},
    calcs=[
        Calc("party_type_name", "对象类型", L.case("party_type", {"entity": "市场主体", "expert": "评标专家",
                                                          "project": "重点项目", "tender": "评定分离标段"})),
        Calc("party_label", "对象", "coalesce(nullif(party_name, ''), party_id)"),
        Calc("reasons_zh", "列入原因", "replace(replace(replace(replace(array_to_string(reasons, '；'), 'verified', '预警经核实'), "
                                      "'repeated', '多个标段反复出现风险信号'), 'office_listed', '本办列入跟踪'), "
                                      "'evaluation_separated', '评定分离重点监管')"),
        Calc("rules_zh", "命中规则", "array_to_string(rule_ids, '；')"),
    ],
    metrics=[Metric("party_count", "名单数", "count(*)", ",d")],
)

UNLINKED = Dataset(
    table="fct_unlinked_tenders",
    time_column="announced_at",
    description="项目代码无法关联审批项目的标段（断链），附最可能的候选项目。",
    labels={"tender_id": "标段编号", "tender_name": "标段名称", "project_code_raw": "填报项目代码",
            "unlinked_reason": "断链原因", "best_candidate_project_name": "最可能的审批项目",
            "best_candidate_score": "匹配分"},
    calcs=_calcs(prefecture="prefecture_code", category="category", department="supervising_department_code"),
    metrics=[Metric("tender_count", "标段数", "count(*)", ",d")],
)

ENTITY = Dataset(
    table="dim_entity",
    time_column=None,
    description="市场主体：登记、关联关系、信用与纳税状况（截至分析日）。",
    labels={"entity_id": "统一社会信用代码", "entity_name": "主体名称"},
    calcs=[
        Calc("prefecture_name", "州市", L.case("prefecture_code", {**L.prefectures(), "530000": "省本级"})),
        Calc("entity_role_name", "主体类型", L.case("entity_role", L.ENTITY_ROLE, "未登记")),
        Calc("tax_rating_name", "纳税信用等级", "coalesce(tax_credit_rating, '无评级')"),
    ],
    metrics=[
        Metric("entity_count", "市场主体数", "count(*)", ",d"),
        Metric("bid_banned", "禁投期内主体", "count(*) filter (where is_bid_banned_as_of)", ",d"),
        Metric("serious_dishonest", "严重失信主体", "count(*) filter (where is_serious_dishonest_as_of)", ",d"),
        Metric("tax_risk", "税务异常主体", "count(*) filter (where is_tax_risk)", ",d"),
        Metric("abnormal_operation", "经营异常主体", "count(*) filter (where is_abnormal_operation_as_of)", ",d"),
        Metric("red_listed", "红名单主体", "count(*) filter (where is_red_listed_as_of)", ",d"),
        Metric("credit_repaired", "信用修复主体", "count(*) filter (where revoked_record_count > 0)", ",d"),
        Metric("with_credit_records", "有信用记录主体", "count(*) filter (where credit_record_count > 0)", ",d"),
    ],
)

CREDIT = Dataset(
    table="dim_entity_credit_intervals",
    time_column="decided_on",
    description="信用中国记录的有效期间（含信用修复/移出）。",
    labels={"entity_id": "统一社会信用代码", "entity_name": "主体名称", "reason": "事由", "authority": "认定机关",
            "decided_on": "决定日期", "valid_from": "生效", "valid_to": "失效", "revoked_on": "信用修复日期"},
    calcs=[
        Calc("list_type_name", "名单类型", L.case("list_type", L.LIST_TYPE)),
        Calc("status_name", "状态", "case when revoked_on is not null then '已修复（移出）' when in_force_as_of then '有效'"
                                     " else '已到期' end"),
    ],
    metrics=[
        Metric("record_count", "信用记录数", "count(*)", ",d"),
        Metric("in_force", "有效记录", "count(*) filter (where in_force_as_of)", ",d"),
        Metric("repaired", "信用修复（移出）", "count(*) filter (where revoked_on is not null)", ",d"),
        Metric("bid_ban_records", "含禁止投标措施", "count(*) filter (where has_bid_ban)", ",d"),
    ],
)

TIME_LIMITS = Dataset(
    table="fct_time_limits",
    time_column="start_date",
    description="办理时限（工作日）：投诉转办与答复、远程异地评标抄送副场、中标结果公示。",
    labels={"item_id": "事项编号", "tender_id": "标段编号", "start_date": "起算日", "due_date": "到期日",
            "done_date": "办结日", "limit_workdays": "时限（工作日）", "workdays_used": "已用工作日",
            "workdays_overdue": "超期工作日"},
    calcs=[
        Calc("prefecture_name", "州市", L.prefecture_of_region("responsible_region_code")),
        Calc("department_name", "监管部门", "responsible_department_name"),
        Calc("rule_name", "时限规则", L.case("rule_id", L.rules())),
        Calc("status_name", "办理状态", L.case("status", L.TIME_LIMIT_STATUS)),
        Calc("item_type_name", "事项类型", L.case("item_type", L.ITEM_TYPE)),
    ],
    metrics=[
        Metric("item_count", "事项数", "count(*)", ",d"),
        Metric("breach_count", "超时限事项", "count(*) filter (where is_breach)", ",d"),
        Metric("open_overdue", "逾期未办结", "count(*) filter (where status = 'open_overdue')", ",d"),
        Metric("on_time_rate", "按时办结率", "avg((status = 'on_time')::int) filter (where is_done)", ".1%"),
        Metric("avg_workdays", "平均用时（工作日）", "avg(workdays_used)", ",.1f"),
        Metric("complaint_count", "投诉举报件数", "count(distinct item_id) filter (where item_type = 'complaint')", ",d"),
    ],
)

MARKET = Dataset(
    table="fct_market_monthly",
    time_column="month_start",
    description="市场月度指标：按公告月份、交易类别、州市、行业汇总。",
    labels={"month_start": "月份", "prefecture_name": "州市"},
    calcs=[
        Calc("category_name", "交易类别", L.case("category", L.CATEGORY)),
        Calc("industry_name", "行业", L.case("industry", L.INDUSTRY)),
    ],
    metrics=[
        Metric("lots", "公告标段数", "sum(lots_announced)", ",d"),
        Metric("lots_awarded", "中标标段数", "sum(lots_awarded)", ",d"),
        Metric("lots_failed", "流标/终止标段数", "sum(lots_failed)", ",d"),
        Metric("award_wan", "中标金额（万元）", f"sum(award_price_total) / {WAN}", ",.0f"),
        Metric("savings_rate", "节资率",
               "1 - sum(award_price_total) / nullif(sum(awarded_control_price_total), 0)", ".2%"),
        Metric("bidders_per_lot", "平均投标人数", "sum(bidders_per_lot * lots_announced) / nullif(sum(lots_announced)"
               " filter (where bidders_per_lot is not null), 0)", ",.1f"),
        Metric("single_bid_share", "单一有效投标占比", "sum(single_bid_awards)::numeric / nullif(sum(lots_awarded), 0)",
               ".1%"),
        Metric("award_days", "公告至中标平均天数", "sum(avg_announcement_to_award_days * lots_awarded)"
               " / nullif(sum(lots_awarded) filter (where avg_announcement_to_award_days is not null), 0)", ",.1f"),
    ],
)

CONCENTRATION = Dataset(
    table="fct_winner_concentration",
    time_column=None,
    description="中标集中度：按年度、交易类别、州市的HHI与前1/前5名份额。",
    labels={"award_year": "年度", "prefecture_name": "州市", "hhi": "HHI指数", "top1_share": "第一名份额",
            "top5_share": "前五名份额", "winner_count": "中标人数", "lots_awarded": "定标标段数",
            "award_amount_total": "中标金额（元）", "has_enough_awards": "样本充足"},
    calcs=[Calc("category_name", "交易类别", L.case("category", L.CATEGORY))],
    metrics=[
        Metric("hhi_max", "HHI（最高）", "max(hhi)", ",.0f"),
        Metric("hhi_weighted", "HHI（按金额加权）", "sum(hhi * award_amount_total) / nullif(sum(award_amount_total), 0)",
               ",.0f"),
        Metric("top1_share", "第一名中标份额", "sum(top1_share * award_amount_total) / nullif(sum(award_amount_total), 0)",
               ".1%"),
        Metric("winners", "中标人数", "sum(winner_count)", ",d"),
        Metric("lots_sum", "定标标段数", "sum(lots_awarded)", ",d"),
        Metric("award_wan", "中标金额（万元）", f"sum(award_amount_total) / {WAN}", ",.0f"),
        Metric("top5_share", "前五名中标份额", "sum(top5_share * award_amount_total) / nullif(sum(award_amount_total), 0)",
               ".1%"),
    ],
)

INSPECTION_OBJECTS = Dataset(
    table="dim_inspection_objects",
    time_column=None,
    description="双随机抽查对象库：标段、主体、代理机构及其风险与信用分级。",
    labels={"object_name": "对象名称", "risk_score": "风险分"},
    calcs=[
        *_calcs(prefecture="prefecture_code", category="category"),
        Calc("object_type_name", "对象类型", L.case("object_type", {"tender": "标段", "entity": "市场主体",
                                                                      "agency": "招标代理机构"})),
        Calc("risk_level_name", "风险等级", L.case("risk_level", {"high": "高", "medium": "中", "low": "低", "none": "无"})),
        Calc("credit_level_name", "信用等级", "coalesce(credit_level, '无')"),
    ],
    metrics=[Metric("object_count", "抽查对象数", "count(*)", ",d")],
)

FOLLOWUP = Dataset(
    table="fct_sampling_followup",
    time_column=None,
    description="双随机抽取结果与检查、公示进度：每个被抽中的对象一行。",
    labels={"draw_id": "抽取批次", "matter": "抽查事项", "period": "期间", "object_name": "对象名称",
            "inspected_on": "检查日期", "finding": "检查结果", "published_on": "公示日期",
            "publication_due_on": "公示期限"},
    calcs=[
        Calc("prefecture_name", "州市", L.case("left(lead_department_code, 6)", {**L.prefectures(), "530000": "省本级"})),
        Calc("department_name", "监管部门", L.case("lead_department_code", L.departments())),
        Calc("progress_name", "进度", "case when published_on is not null then '已公示' when inspected_on is not null"
                                      " then '已检查待公示' else '待检查' end"),
        Calc("outcome_name", "检查结论", L.case("outcome", {"no_issue": "未发现问题", "issue_found": "发现问题",
                                                          "referred": "移交处理", "not_inspected": "未检查"}, "待检查")),
        Calc("object_type_name", "对象类型", L.case("object_type", {"tender": "标段", "entity": "市场主体",
                                                                      "agency": "招标代理机构"})),
    ],
    metrics=[
        Metric("selected", "抽中对象数", "count(*)", ",d"),
        Metric("inspected", "已检查", "count(*) filter (where inspected_on is not null)", ",d"),
        Metric("published", "已公示", "count(*) filter (where published_on is not null)", ",d"),
        Metric("overdue", "公示逾期", "count(*) filter (where is_overdue)", ",d"),
        Metric("draws", "抽取批次数", "count(distinct draw_id)", ",d"),
        Metric("progress", "检查完成率", "avg((inspected_on is not null)::int)", ".1%"),
    ],
)

# The data engineers' dashboard reads the ledger marts built from the loader's own records.
FEED_NAME = Calc("feed_name", "数据源", L.case("feed", {"trading_centre": "交易中心", "approval": "投资项目审批",
                                                     "credit_china": "信用中国", "tax": "税务"}))
# the loader's validation rules (ggzy.feeds.rules.RULES) as leaders read them
RULE_NAMES_ZH = {
    "required": "必填项缺失", "uscc_check_digit": "统一社会信用代码校验位错误", "id_check_digit": "身份证号校验位错误",
    "region_code": "行政区划代码无效", "project_code_format": "项目代码格式错误", "enum": "取值不在规定范围",
    "date": "日期无效", "timestamp": "时间无效", "money": "金额无效", "number": "数值无效", "integer": "整数无效",
    "bool": "是否值无效", "party_id": "主体证件号无效", "duplicate_row": "重复行", "json_syntax": "JSON 格式错误",
    "column_count": "字段个数不符", "encoding": "编码错误或含空字节", "too_long": "行或字段超长",
    "json_depth": "JSON 嵌套过深",
}

BATCHES = Dataset(
    table="fct_batch_ledger",
    schema="marts",
    time_column="batch_date",
    description="批次台账：每个数据源每天一批（当前交付），交付/入库/隔离行数与拒收原因。",
    labels={"feed": "数据源", "batch_date": "批次日期", "status": "状态", "rows_delivered": "交付行数",
            "rows_loaded": "入库行数", "rows_quarantined": "隔离行数", "refusal": "拒收原因", "loaded_at": "入库时间",
            "deliveries": "交付次数"},
    calcs=[FEED_NAME],
    metrics=[
        Metric("batch_count", "批次数", "count(*)", ",d"),
        Metric("refused", "拒收批次", "count(*) filter (where status = 'refused')", ",d"),
        Metric("delivered", "交付行数", "sum(rows_delivered)", ",d"),
        Metric("loaded", "入库行数", "sum(rows_loaded)", ",d"),
        Metric("quarantined", "隔离行数", "sum(rows_quarantined)", ",d"),
        Metric("redelivered", "重新交付批次", "count(*) filter (where deliveries > 1)", ",d"),
        Metric("load_seconds", "平均入库耗时（秒）", "avg(load_seconds)", ",.3f"),
    ],
)

QUARANTINE = Dataset(
    table="fct_quarantine_by_rule",
    schema="marts",
    time_column="batch_date",
    description="隔离区：未通过校验的行及其规则。",
    labels={"feed": "数据源", "batch_date": "批次日期", "file": "文件", "first_line": "首个行号", "rule": "校验规则",
            "rows_quarantined": "隔离行数"},
    calcs=[FEED_NAME, Calc("rule_name", "校验规则", L.case("rule", RULE_NAMES_ZH))],
    metrics=[Metric("rows", "隔离行数", "sum(rows_quarantined)", ",d")],
)

DATASETS: list[Dataset] = [CLOSED_LOOP, SIGNALS, TENDER_RISK, ENTITY_RISK, WATCH, UNLINKED, ENTITY, CREDIT, TIME_LIMITS,
                           MARKET, CONCENTRATION, INSPECTION_OBJECTS, FOLLOWUP, BATCHES, QUARANTINE]

CL_RULES = ["n_cl_no_approval", "n_cl_award_above_control", "n_cl_contract_deviation", "n_cl_start_before_award",
            "n_cl_settlement_overrun", "n_cl_stage_overdue", "n_cl_broken_link"]

# ------------------------------------------------------------------------------ charts
CHARTS: list[Chart] = [
    # ---- 总览
    Chart("ov_tenders", "交易标段数", "fct_closed_loop", "big_number_total", metrics=["tender_count"]),
    Chart("ov_award_amount", "中标金额（亿元）", "fct_closed_loop", "big_number_total", metrics=["award_amount_yi"],
          number_format=",.2f"),
    Chart("ov_savings", "节约资金（亿元）", "fct_closed_loop", "big_number_total", metrics=["savings_yi"],
          number_format=",.2f", description="招标控制价减中标价，仅计已中标且有控制价的标段"),
    Chart("ov_savings_rate", "节资率", "fct_closed_loop", "big_number_total", metrics=["savings_rate"],
          number_format=".2%"),
    Chart("ov_alerts_high", "高风险预警", "fct_risk_signals", "big_number_total", metrics=["high_count"]),
    Chart("ov_flagged", "闭环问题标段", "fct_closed_loop", "big_number_total", metrics=["flagged_count"]),
    Chart("ov_trend", "月度交易趋势（按公告月份）", "fct_closed_loop", "echarts_timeseries_bar",
          x="announced_at", time_grain="P1M", metrics=["tender_count", "awarded_count"]),
    Chart("ov_amount_trend", "月度中标金额与节约资金（亿元）", "fct_closed_loop", "echarts_timeseries_line",
          x="announced_at", time_grain="P1M", metrics=["award_amount_yi", "savings_yi"], number_format=",.2f"),
    Chart("ov_alerts_severity", "预警按严重程度", "fct_risk_signals", "pie", metrics=["signal_count"],
          groupby=["severity_name"]),
    Chart("ov_alerts_trend", "每周预警数", "fct_risk_signals", "echarts_timeseries_bar", x="signal_date",
          time_grain="P1W", metrics=["signal_count"], groupby=["severity_name"], extra={"stack": "Stack"}),
    Chart("ov_category_pie", "交易类别构成（中标金额）", "fct_closed_loop", "pie", metrics=["award_amount_yi"],
          groupby=["category_name"], number_format=",.2f"),
    Chart("ov_prefecture_bar", "各州市中标金额（亿元）", "fct_closed_loop", "echarts_timeseries_bar",
          x="prefecture_name", metrics=["award_amount_yi"], number_format=",.2f",
          extra={"orientation": "horizontal"}),
    Chart("ov_prefecture_table", "各州市交易概况", "fct_closed_loop", "table", groupby=["prefecture_name"],
          metrics=["tender_count", "award_amount_yi", "savings_rate", "flagged_count"],
          order_by=[("award_amount_yi", False)]),

    # ---- 风险预警
    Chart("rk_signals", "预警总数", "fct_risk_signals", "big_number_total", metrics=["signal_count"]),
    Chart("rk_high", "高风险预警", "fct_risk_signals", "big_number_total", metrics=["high_count"]),
    Chart("rk_tenders", "涉及标段", "fct_risk_signals", "big_number_total", metrics=["tenders_signalled"]),
    Chart("rk_watch_count", "重点监管名单", "fct_key_watch_list", "big_number_total", metrics=["party_count"]),
    Chart("rk_by_rule", "预警按规则", "fct_risk_signals", "echarts_timeseries_bar", x="rule_name_zh",
          metrics=["signal_count"], groupby=["severity_name"], extra={"orientation": "horizontal", "stack": "Stack"},
          row_limit=200),
    Chart("rk_by_group", "预警按规则类别", "fct_risk_signals", "pie", metrics=["signal_count"],
          groupby=["rule_group_name"]),
    Chart("rk_by_prefecture", "各州市预警数", "fct_risk_signals", "echarts_timeseries_bar", x="prefecture_name",
          metrics=["signal_count"], groupby=["severity_name"], extra={"stack": "Stack"}),
    Chart("rk_by_department", "各监管部门预警数", "fct_risk_signals", "table", groupby=["department_name"],
          metrics=["signal_count", "high_count", "tenders_signalled"], order_by=[("signal_count", False)]),
    Chart("rk_level_tenders", "标段风险等级分布", "fct_tender_risk", "pie", metrics=["tender_count"],
          groupby=["risk_level_name"]),
    Chart("rk_top_tenders", "风险最高的标段", "fct_tender_risk", "table",
          columns=["tender_id", "prefecture_name", "category_name", "risk_score", "n_signals", "explanation_text"],
          where=["n_signals > 0"], order_by=[("risk_score", False)]),
    Chart("rk_top_entities", "风险最高的市场主体", "fct_entity_risk", "table",
          groupby=["entity_label", "prefecture_name", "risk_level_name"],
          metrics=["max_risk_score", "signal_sum", "lots_sum"], order_by=[("max_risk_score", False)]),
    Chart("rk_watch_list", "重点监管名单", "fct_key_watch_list", "table",
          columns=["party_type_name", "party_label", "reasons_zh", "n_verified_alerts", "n_lots_with_signals",
                   "last_signal_date"], order_by=[("n_lots_with_signals", False)], may_be_empty=True),

    # ---- 闭环监管
    Chart("cl_flagged", "闭环问题标段", "fct_closed_loop", "big_number_total", metrics=["flagged_count"]),
    Chart("cl_flagged_share", "问题标段占比", "fct_closed_loop", "big_number_total", metrics=["flagged_share"],
          number_format=".1%"),
    Chart("cl_unlinked", "断链标段（项目代码无法关联）", "fct_closed_loop", "big_number_total",
          metrics=["n_cl_broken_link"]),
    Chart("cl_overrun", "结算超合同价", "fct_closed_loop", "big_number_total", metrics=["n_cl_settlement_overrun"]),
    Chart("cl_amounts", "资金链条：控制价→中标→合同→结算（亿元）", "fct_closed_loop", "echarts_timeseries_bar",
          x="category_name", metrics=["control_price_yi", "award_amount_yi", "contract_amount_yi",
                                      "settlement_amount_yi"], number_format=",.2f"),
    Chart("cl_rules", "闭环问题按类型与州市", "fct_closed_loop", "echarts_timeseries_bar", x="prefecture_name",
          metrics=CL_RULES, extra={"stack": "Stack"}),
    Chart("cl_rule_table", "闭环问题按监管部门", "fct_closed_loop", "table", groupby=["department_name"],
          metrics=["tender_count", "flagged_count", *CL_RULES], order_by=[("flagged_count", False)]),
    Chart("cl_flagged_list", "问题标段清单", "fct_closed_loop", "table",
          columns=["tender_id", "tender_name", "prefecture_name", "category_name", "control_price", "award_price",
                   "contract_amount", "final_settlement_amount", "flagged_rules_zh"],
          where=["flag_count > 0"], order_by=[("flag_count", False)], may_be_empty=True),
    Chart("cl_unlinked_list", "断链标段与候选审批项目", "fct_unlinked_tenders", "table",
          columns=["tender_id", "tender_name", "prefecture_name", "project_code_raw", "unlinked_reason",
                   "best_candidate_project_name", "best_candidate_score"], order_by=[("best_candidate_score", False)],
          may_be_empty=True),

    # ---- 信用监管
    Chart("cr_banned", "禁投期内主体", "dim_entity", "big_number_total", metrics=["bid_banned"]),
    Chart("cr_dishonest", "严重失信主体", "dim_entity", "big_number_total", metrics=["serious_dishonest"]),
    Chart("cr_tax", "税务异常主体", "dim_entity", "big_number_total", metrics=["tax_risk"]),
    Chart("cr_repaired", "信用修复（移出）记录", "dim_entity_credit_intervals", "big_number_total",
          metrics=["repaired"]),
    Chart("cr_violations", "信用类预警（失信投标、异常纳税人中标、空壳公司中标）", "fct_risk_signals", "big_number_total",
          metrics=["credit_signal_count"]),
    Chart("cr_list_types", "信用记录按名单类型", "dim_entity_credit_intervals", "echarts_timeseries_bar",
          x="list_type_name", metrics=["record_count", "in_force", "repaired"]),
    Chart("cr_status", "信用记录状态", "dim_entity_credit_intervals", "pie", metrics=["record_count"],
          groupby=["status_name"]),
    Chart("cr_entity_status", "市场主体信用概况", "dim_entity", "table", groupby=["prefecture_name"],
          metrics=["entity_count", "with_credit_records", "serious_dishonest", "bid_banned", "abnormal_operation",
                   "tax_risk", "red_listed"], order_by=[("entity_count", False)]),
    Chart("cr_records", "信用记录明细", "dim_entity_credit_intervals", "table",
          columns=["entity_name", "list_type_name", "reason", "authority", "decided_on", "valid_from", "valid_to",
                   "revoked_on", "status_name"], order_by=[("decided_on", False)]),

    # ---- 投诉举报与时限
    Chart("tl_items", "时限事项", "fct_time_limits", "big_number_total", metrics=["item_count"]),
    Chart("tl_complaints", "投诉举报件数", "fct_time_limits", "big_number_total", metrics=["complaint_count"]),
    Chart("tl_breach", "超时限事项", "fct_time_limits", "big_number_total", metrics=["breach_count"]),
    Chart("tl_open_overdue", "逾期未办结", "fct_time_limits", "big_number_total", metrics=["open_overdue"]),
    Chart("tl_on_time", "按时办结率", "fct_time_limits", "big_number_total", metrics=["on_time_rate"],
          number_format=".1%"),
    Chart("tl_by_rule", "各类时限办理情况", "fct_time_limits", "echarts_timeseries_bar", x="rule_name",
          metrics=["item_count"], groupby=["status_name"], extra={"orientation": "horizontal", "stack": "Stack"}),
    Chart("tl_status", "办理状态", "fct_time_limits", "pie", metrics=["item_count"], groupby=["status_name"]),
    Chart("tl_by_department", "各监管部门时限执行", "fct_time_limits", "table", groupby=["department_name"],
          metrics=["item_count", "breach_count", "open_overdue", "on_time_rate", "avg_workdays"],
          order_by=[("breach_count", False)]),
    Chart("tl_overdue_list", "超时限与逾期事项清单", "fct_time_limits", "table",
          columns=["rule_name", "item_type_name", "item_id", "department_name", "start_date", "due_date", "done_date",
                   "workdays_used", "workdays_overdue", "status_name"],
          where=["is_breach or status = 'open'"], order_by=[("workdays_overdue", False)], may_be_empty=True),

    # ---- 双随机一公开
    Chart("sp_draws", "抽取批次", "fct_sampling_followup", "big_number_total", metrics=["draws"]),
    Chart("sp_selected", "抽中对象", "fct_sampling_followup", "big_number_total", metrics=["selected"]),
    Chart("sp_progress", "检查完成率", "fct_sampling_followup", "big_number_total", metrics=["progress"],
          number_format=".1%"),
    Chart("sp_overdue", "公示逾期", "fct_sampling_followup", "big_number_total", metrics=["overdue"]),
    Chart("sp_by_matter", "各抽查事项进度", "fct_sampling_followup", "echarts_timeseries_bar", x="matter",
          metrics=["selected", "inspected", "published"], extra={"orientation": "horizontal"}),
    Chart("sp_outcomes", "检查结论", "fct_sampling_followup", "pie", metrics=["selected"], groupby=["outcome_name"]),
    Chart("sp_pool", "抽查对象库（按风险等级）", "dim_inspection_objects", "echarts_timeseries_bar",
          x="object_type_name", metrics=["object_count"], groupby=["risk_level_name"], extra={"stack": "Stack"}),
    Chart("sp_list", "抽取结果与检查公示", "fct_sampling_followup", "table",
          columns=["period", "matter", "object_type_name", "object_name", "department_name", "progress_name",
                   "outcome_name", "inspected_on", "published_on", "publication_due_on"],
          order_by=[("period", False)]),

    # ---- 市场分析
    Chart("mk_lots", "公告标段数", "fct_market_monthly", "big_number_total", metrics=["lots"]),
    Chart("mk_bidders", "平均投标人数", "fct_market_monthly", "big_number_total", metrics=["bidders_per_lot"],
          number_format=",.1f"),
    Chart("mk_single", "单一有效投标占比", "fct_market_monthly", "big_number_total", metrics=["single_bid_share"],
          number_format=".1%"),
    Chart("mk_hhi", "中标集中度HHI（按金额加权）", "fct_winner_concentration", "big_number_total",
          metrics=["hhi_weighted"], number_format=",.0f"),
    Chart("mk_monthly", "各类别月度中标金额（万元）", "fct_market_monthly", "echarts_timeseries_bar", x="month_start",
          time_grain="P1M", metrics=["award_wan"], groupby=["category_name"], extra={"stack": "Stack"},
          number_format=",.0f"),
    Chart("mk_competition", "竞争程度：平均投标人数（按类别、月份）", "fct_market_monthly", "echarts_timeseries_line",
          x="month_start", time_grain="P1M", metrics=["bidders_per_lot"], groupby=["category_name"],
          number_format=",.1f"),
    Chart("mk_heatmap", "州市×交易类别中标金额（万元）", "fct_market_monthly", "heatmap_v2", x="category_name",
          groupby=["prefecture_name"], metrics=["award_wan"], number_format=",.0f"),
    Chart("mk_treemap", "各州市交易规模（中标金额，万元）", "fct_market_monthly", "treemap_v2", metrics=["award_wan"],
          groupby=["prefecture_name", "category_name"], number_format=",.0f"),
    Chart("mk_price", "价格与效率（按类别）", "fct_market_monthly", "table", groupby=["category_name"],
          metrics=["lots", "lots_awarded", "lots_failed", "award_wan", "savings_rate", "bidders_per_lot",
                   "single_bid_share", "award_days"], order_by=[("award_wan", False)]),
    Chart("mk_concentration", "中标集中度（年度、类别、州市；中标人≥5或定标标段≥10，按中标金额排序）",
          "fct_winner_concentration", "table", groupby=["award_year", "category_name", "prefecture_name"],
          metrics=["lots_sum", "award_wan", "winners", "top1_share", "top5_share", "hhi_max"],
          where=["has_enough_awards"], order_by=[("award_wan", False)]),

    # ---- 数据运行 (data engineers)
    Chart("op_batches", "批次总数", "fct_batch_ledger", "big_number_total", metrics=["batch_count"]),
    Chart("op_refused", "拒收批次", "fct_batch_ledger", "big_number_total", metrics=["refused"]),
    Chart("op_loaded", "入库行数", "fct_batch_ledger", "big_number_total", metrics=["loaded"]),
    Chart("op_quarantined", "隔离行数", "fct_batch_ledger", "big_number_total", metrics=["quarantined"]),
    Chart("op_daily", "每日入库与隔离行数", "fct_batch_ledger", "echarts_timeseries_bar", x="batch_date", time_grain="P1D",
          metrics=["loaded", "quarantined"], extra={"stack": "Stack"}),
    Chart("op_by_feed", "各数据源批次状态", "fct_batch_ledger", "table", groupby=["feed_name"],
          metrics=["batch_count", "refused", "redelivered", "delivered", "loaded", "quarantined", "load_seconds"],
          order_by=[("batch_count", False)]),
    Chart("op_quarantine_rules", "隔离原因（校验规则）", "fct_quarantine_by_rule", "echarts_timeseries_bar", x="rule_name",
          metrics=["rows"], groupby=["feed_name"], extra={"orientation": "horizontal", "stack": "Stack"}),
    Chart("op_refusals", "拒收批次与原因", "fct_batch_ledger", "table",
          columns=["feed_name", "batch_date", "status", "refusal", "loaded_at"], where=["status <> 'loaded'"],
          order_by=[("batch_date", False)], may_be_empty=True),
]

# ------------------------------------------------------------------------------ dashboards
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

# 监管闭环 (issue 20) lives in its own module too: its datasets, charts and dashboard join the
# lists here, and the overdue alerts join the 风险预警 dashboard.
from ggzy_superset import spec_supervision as _supervision  # noqa: E402

DATASETS.extend(_supervision.DATASETS)
CHARTS.extend(_supervision.CHARTS)
next(d for d in DASHBOARDS if d.slug == "risk").rows.extend(_supervision.RISK_ROWS)
DASHBOARDS.append(_supervision.dashboard(FILTERS))

# 部门履职 (issue 21) lives in its own module; its dataset, charts and dashboard join the lists here.
from ggzy_superset import spec_scorecard as _scorecard  # noqa: E402

DATASETS.append(_scorecard.SCORECARD)
CHARTS.extend(_scorecard.CHARTS)
DASHBOARDS.append(_scorecard.dashboard(FILTERS))

# Issue 15 (alert volume, provisional time limits, department-code routing) in its own module.
from ggzy_superset import spec_rules15 as _rules15  # noqa: E402

DATASETS.extend(_rules15.DATASETS)
TIME_LIMITS.metrics.extend(_rules15.TIME_LIMIT_METRICS)
TIME_LIMITS.labels.update(_rules15.TIME_LIMIT_LABELS)
CHARTS.extend(_rules15.CHARTS)
for _slug, _rows in (("risk", _rules15.RISK_ROWS), ("time-limits", _rules15.TIME_LIMIT_ROWS),
                     ("data-ops", _rules15.DATA_OPS_ROWS)):
    next(d for d in DASHBOARDS if d.slug == _slug).rows.extend(_rows)

