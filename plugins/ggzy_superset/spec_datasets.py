"""The datasets the dashboards read (marts only): each mart with its Chinese labels,
metrics and calculated columns. Money in 万元 or 亿元 as leaders read it; rates as
percentages; 州市, 交易类别, 监管部门 as calculated columns of the same name on every
dataset, so that one dashboard filter reaches them all (labels.py)."""

from __future__ import annotations

from ggzy_superset import labels as L
from ggzy_superset.model import Calc, Dataset, Metric

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
