"""Sections on supervision: risk and alerts, closed loop, credit, complaints and time
limits, 双随机一公开, special inspections, the department scorecard."""

from __future__ import annotations

from ggzy_superset import labels as L

from ggzy.report import charts
from ggzy.report.model import Chart, Section, Table, fmt
from ggzy.report.period import Period
from ggzy.report.query import SCORECARD_TOTALS, SIGNAL_TOTALS, figures, row, rows


# ------------------------------------------------------------------------------ 风险与预警
def risk(conn, p: Period) -> Section:
    s = Section("risk", "风险与预警")
    s.figures += figures(conn, SIGNAL_TOTALS, "marts.fct_risk_signals", p, [
        ("signals", "风险信号", "条"), ("high_signals", "高风险信号", "条"), ("tenders_signalled", "涉及标段", "个")])
    s.figures += figures(conn, SCORECARD_TOTALS, "marts.fct_department_scorecard", p, [
        ("alerts_received", "推送预警", "条"), ("alerts_acknowledged", "已签收", "条"),
        ("alerts_handled_in_time", "按期处置", "条"), ("alerts_overdue", "处置超期", "条"),
        ("alerts_verified", "核实属实", "条"), ("alerts_dismissed", "核实排除", "条"),
        ("alerts_transferred", "移送", "条"), ("alerts_open", "尚未办结", "条")])
    groups = rows(conn, """
        select rule_group, count(*) as n, count(*) filter (where severity = 'high') as high
        from marts.fct_risk_signals where signal_date >= %(start)s and signal_date < %(end)s
        group by rule_group order by n desc, rule_group""", p)
    if groups:
        s.charts.append(Chart("风险信号按规则类别（条）", "marts.fct_risk_signals", charts.bars(
            [L.RULE_GROUP.get(r["rule_group"], r["rule_group"]) for r in groups],
            {"全部": [r["n"] for r in groups], "高风险": [r["high"] for r in groups]}, ylabel="条")))
    top = rows(conn, """
        select rule_name_zh, count(*) as n, count(*) filter (where severity = 'high') as high,
               count(distinct tender_id) as tenders
        from marts.fct_risk_signals where signal_date >= %(start)s and signal_date < %(end)s
        group by rule_name_zh order by n desc, rule_name_zh limit 10""", p)
    if top:
        s.tables.append(Table("信号最多的十条规则", "marts.fct_risk_signals", ["预警规则", "信号数", "高风险", "涉及标段"],
                              [[r["rule_name_zh"], fmt(r["n"]), fmt(r["high"]), fmt(r["tenders"])] for r in top]))
    else:
        s.notes.append("本期无风险信号。")
    return s


# ------------------------------------------------------------------------------ 闭环监管
CL_RULES = ("cl_no_approval", "cl_award_above_control", "cl_contract_deviation", "cl_start_before_award",
            "cl_settlement_overrun", "cl_stage_overdue", "cl_broken_link")
CLOSED_LOOP = f"""
    select count(*) as lots, count(*) filter (where flag_count > 0) as flagged,
           {", ".join(f"count(*) filter (where {r}) as {r}" for r in CL_RULES)}
    from marts.fct_closed_loop
    where (announced_at at time zone 'Asia/Shanghai')::date >= %(start)s
      and (announced_at at time zone 'Asia/Shanghai')::date < %(end)s
"""


CLUES = """
    select count(*) as opened,
           count(*) filter (where status in ('unfounded', 'decided', 'concluded')) as resolved,
           count(*) filter (where status in ('confirmed', 'transferred', 'decided', 'concluded')) as confirmed,
           count(*) filter (where n_transfers > 0) as transferred,
           count(*) filter (where n_outcomes > 0) as with_outcome,
           count(*) filter (where is_joint_verification) as joint,
           count(*) filter (where is_overdue) as overdue
    from marts.fct_clues
    where registered_date >= %(start)s and registered_date < %(end)s
"""
CLUE_SOURCES = {"alert": "风险预警", "complaint": "投诉举报", "sampling": "双随机抽查", "special_inspection": "专项检查"}


def closed_loop(conn, p: Period) -> Section:
    s = Section("closed_loop", "闭环监管")
    s.figures += figures(conn, CLOSED_LOOP, "marts.fct_closed_loop", p, [
        ("lots", "公告标段", "个"), ("flagged", "存在闭环问题的标段", "个")])
    s.figures += figures(conn, CLUES, "marts.fct_clues", p, [
        ("opened", "新立问题线索", "条"), ("resolved", "已办结", "条"), ("confirmed", "查实", "条"),
        ("transferred", "移送", "条"), ("with_outcome", "收到办理结果", "条"), ("joint", "联合核查", "条"),
        ("overdue", "超期未办", "条")])
    by_source = rows(conn, """
        select source_type, count(*) as n,
               count(*) filter (where status in ('unfounded', 'decided', 'concluded')) as resolved,
               count(*) filter (where is_overdue) as overdue
        from marts.fct_clues where registered_date >= %(start)s and registered_date < %(end)s
        group by source_type order by n desc, source_type""", p)
    if by_source:
        s.tables.append(Table("问题线索按来源", "marts.fct_clues", ["线索来源", "新立", "已办结", "超期未办"],
                              [[CLUE_SOURCES.get(r["source_type"], r["source_type"]), fmt(r["n"]), fmt(r["resolved"]),
                                fmt(r["overdue"])] for r in by_source]))
    now, before = row(conn, CLOSED_LOOP, p), row(conn, CLOSED_LOOP, p.previous())
    rules = L.rules()
    s.tables.append(Table("闭环问题按类型（标段数）", "marts.fct_closed_loop", ["问题类型", "本期", "上期"],
                          [[rules.get(r, r), fmt(now[r]), fmt(before[r])] for r in CL_RULES]))
    if any(now[r] for r in CL_RULES):
        s.charts.append(Chart("闭环问题按类型（标段数）", "marts.fct_closed_loop", charts.bars(
            [rules.get(r, r) for r in CL_RULES], {"本期": [now[r] for r in CL_RULES],
                                                  "上期": [before[r] for r in CL_RULES]}, horizontal=True,
            ylabel="个", height=3.2)))
    return s


# ------------------------------------------------------------------------------ 信用与联合惩戒
CREDIT = """
    select count(*) filter (where decided_on >= %(start)s and decided_on < %(end)s) as records_decided,
           count(*) filter (where decided_on >= %(start)s and decided_on < %(end)s
                              and list_type = 'serious_dishonest') as serious_dishonest,
           count(*) filter (where decided_on >= %(start)s and decided_on < %(end)s and has_bid_ban) as bid_bans,
           count(*) filter (where revoked_on >= %(start)s and revoked_on < %(end)s) as repaired
    from marts.dim_entity_credit_intervals
"""
BAD_CONDUCT = """
    select count(*) filter (where decided_on >= %(start)s and decided_on < %(end)s) as records,
           coalesce(sum(score) filter (where decided_on >= %(start)s and decided_on < %(end)s), 0) as score,
           count(*) filter (where credit_repaired_on >= %(start)s and credit_repaired_on < %(end)s) as repaired
    from marts.fct_bad_conduct_records
"""
CREDIT_SIGNALS = """
    select count(*) as credit_signals
    from marts.fct_risk_signals
    where rule_group = 'credit' and signal_date >= %(start)s and signal_date < %(end)s
"""


def credit(conn, p: Period) -> Section:
    s = Section("credit", "信用监管与联合惩戒")
    s.figures += figures(conn, CREDIT, "marts.dim_entity_credit_intervals", p, [
        ("records_decided", "新增信用记录", "条"), ("serious_dishonest", "其中严重失信", "条"),
        ("bid_bans", "含禁止投标措施", "条"), ("repaired", "信用修复（移出）", "条")])
    s.figures += figures(conn, BAD_CONDUCT, "marts.fct_bad_conduct_records", p, [
        ("records", "不良行为记录", "条"), ("score", "记分合计", "分"), ("repaired", "信用修复后撤销公示", "条")])
    s.figures += figures(conn, CREDIT_SIGNALS, "marts.fct_risk_signals", p, [
        ("credit_signals", "失信主体参与交易等信用类预警", "条")])
    by_type = rows(conn, """
        select list_type, count(*) as n from marts.dim_entity_credit_intervals
        where decided_on >= %(start)s and decided_on < %(end)s group by list_type order by n desc, list_type""", p)
    if by_type:
        s.tables.append(Table("新增信用记录按名单类型", "marts.dim_entity_credit_intervals", ["名单类型", "记录数"],
                              [[L.LIST_TYPE.get(r["list_type"], r["list_type"]), fmt(r["n"])] for r in by_type]))
    return s


# ------------------------------------------------------------------------------ 投诉举报与办理时限
TIME_LIMITS = """
    select count(distinct item_id) filter (where item_type = 'complaint') as complaints,
           count(*) as items,
           count(*) filter (where status = 'on_time') as on_time,
           count(*) filter (where is_breach) as breaches,
           count(*) filter (where status = 'open_overdue') as open_overdue,
           round(avg((status = 'on_time')::int) filter (where is_done), 6) as on_time_rate
    from marts.fct_time_limits
    where start_date >= %(start)s and start_date < %(end)s
"""


def time_limits(conn, p: Period) -> Section:
    s = Section("time_limits", "投诉举报与办理时限")
    s.figures += figures(conn, TIME_LIMITS, "marts.fct_time_limits", p, [
        ("complaints", "投诉举报", "件"), ("items", "时限事项", "项"), ("breaches", "超时限", "项"),
        ("open_overdue", "逾期未办结", "项"), ("on_time_rate", "按时办结率", "%")])
    by_rule = rows(conn, """
        select rule_id, count(*) as items, count(*) filter (where status = 'on_time') as on_time,
               count(*) filter (where status = 'late') as late, count(*) filter (where status = 'open') as open,
               count(*) filter (where status = 'open_overdue') as open_overdue
        from marts.fct_time_limits where start_date >= %(start)s and start_date < %(end)s
        group by rule_id order by rule_id""", p)
    rules = L.rules()
    if by_rule:
        s.tables.append(Table("各类时限执行情况", "marts.fct_time_limits",
                              ["时限规则", "事项", "按时办结", "超时办结", "办理中", "逾期未办结"],
                              [[rules.get(r["rule_id"], r["rule_id"]), fmt(r["items"]), fmt(r["on_time"]),
                                fmt(r["late"]), fmt(r["open"]), fmt(r["open_overdue"])] for r in by_rule]))
        s.charts.append(Chart("各类时限办理状态（项）", "marts.fct_time_limits", charts.bars(
            [rules.get(r["rule_id"], r["rule_id"]) for r in by_rule],
            {L.TIME_LIMIT_STATUS[k]: [r[k] for r in by_rule] for k in ("on_time", "late", "open", "open_overdue")},
            stacked=True, horizontal=True, ylabel="项", height=2.6)))
    else:
        s.notes.append("本期无起算的时限事项。")
    return s


# ------------------------------------------------------------------------------ 双随机一公开
SAMPLING = """
    select count(distinct draw_id) filter (where to_date(period || '-01', 'YYYY-MM-DD') >= %(start)s
                                             and to_date(period || '-01', 'YYYY-MM-DD') < %(end)s) as draws,
           count(*) filter (where to_date(period || '-01', 'YYYY-MM-DD') >= %(start)s
                              and to_date(period || '-01', 'YYYY-MM-DD') < %(end)s) as selected,
           count(*) filter (where inspected_on >= %(start)s and inspected_on < %(end)s) as inspected,
           count(*) filter (where inspected_on >= %(start)s and inspected_on < %(end)s
                              and outcome in ('issue_found', 'referred')) as with_findings,
           count(*) filter (where inspected_on >= %(start)s and inspected_on < %(end)s
                              and publication_status = 'published_on_time') as published_on_time,
           count(*) filter (where inspected_on >= %(start)s and inspected_on < %(end)s
                              and publication_status in ('published_late', 'overdue')) as published_late_or_overdue
    from marts.fct_sampling_followup
    where period ~ '^\\d{4}-\\d{2}$'
"""
OUTCOMES = {"no_issue": "未发现问题", "issue_found": "发现问题", "referred": "移交处理", "not_inspected": "未检查"}


def sampling(conn, p: Period) -> Section:
    s = Section("sampling", "双随机一公开")
    s.figures += figures(conn, SAMPLING, "marts.fct_sampling_followup", p, [
        ("draws", "抽取批次", "次"), ("selected", "抽中对象", "个"), ("inspected", "完成检查", "个"),
        ("with_findings", "发现问题", "个"), ("published_on_time", "按时公示", "个"),
        ("published_late_or_overdue", "公示超期", "个")])
    by_outcome = rows(conn, """
        select outcome, count(*) as n from marts.fct_sampling_followup
        where inspected_on >= %(start)s and inspected_on < %(end)s group by outcome order by n desc, outcome""", p)
    if by_outcome:
        s.tables.append(Table("本期检查结论", "marts.fct_sampling_followup", ["检查结论", "对象数"],
                              [[OUTCOMES.get(r["outcome"], r["outcome"]), fmt(r["n"])] for r in by_outcome]))
    else:
        s.notes.append("本期无完成检查的抽查对象。")
    return s


# ------------------------------------------------------------------------------ 专项检查
SPECIAL = """
    select count(distinct inspection_id) filter (where period_start < %(end)s and period_end >= %(start)s)
               as campaigns,
           count(distinct (inspection_id, target_type, target_id))
               filter (where period_start < %(end)s and period_end >= %(start)s) as targets,
           count(finding_id) filter (where found_on >= %(start)s and found_on < %(end)s) as findings,
           count(finding_id) filter (where found_on >= %(start)s and found_on < %(end)s and is_problem) as problems,
           count(clue_id) filter (where found_on >= %(start)s and found_on < %(end)s) as clues
    from marts.fct_special_inspection_findings
"""


def special_inspections(conn, p: Period) -> Section:
    s = Section("special_inspections", "专项检查")
    s.figures += figures(conn, SPECIAL, "marts.fct_special_inspection_findings", p, [
        ("campaigns", "开展中的专项检查", "项"), ("targets", "检查对象", "个"), ("findings", "检查发现", "条"),
        ("problems", "其中问题", "条"), ("clues", "转为问题线索", "条")])
    campaigns = rows(conn, """
        select title, lead_department_name, period_start, period_end,
               count(distinct (target_type, target_id)) as targets,
               count(finding_id) filter (where found_on >= %(start)s and found_on < %(end)s) as findings,
               count(finding_id) filter (where found_on >= %(start)s and found_on < %(end)s and is_problem) as problems
        from marts.fct_special_inspection_findings
        where period_start < %(end)s and period_end >= %(start)s
        group by inspection_id, title, lead_department_name, period_start, period_end
        order by period_start, inspection_id""", p)
    if campaigns:
        s.tables.append(Table("本期开展的专项检查", "marts.fct_special_inspection_findings",
                              ["专项检查", "牵头部门", "期间", "检查对象", "本期发现", "其中问题"],
                              [[r["title"], r["lead_department_name"] or "—", f"{r['period_start']} 至 {r['period_end']}",
                                fmt(r["targets"]), fmt(r["findings"]), fmt(r["problems"])] for r in campaigns]))
    else:
        s.notes.append("本期没有开展中的专项检查（ops.special_inspections 中无与本期重叠的检查）。")
    return s


# ------------------------------------------------------------------------------ 部门履职
SCORECARD_COLUMNS = [  # (column, header) as printed in the table
    ("department_name", "监管部门"), ("alerts_received", "收到预警"), ("alerts_acknowledged", "已签收"),
    ("alerts_handled_in_time", "按期处置"), ("alerts_overdue", "处置超期"), ("alerts_verified", "核实属实"),
    ("alerts_transferred", "移送"), ("time_limit_items", "时限事项"), ("time_limit_breaches", "超时限"),
    ("time_limit_compliance_rate", "时限达标率"), ("inspections_assigned", "抽查对象"), ("inspections_done", "已检查"),
    ("inspections_published_on_time", "按时公示"), ("clues_opened", "新立线索"), ("clues_resolved", "办结线索"),
]
SCORECARD_ROWS = 25  # the table lists the most active departments; the totals cover all


def scorecard(conn, p: Period) -> Section:
    s = Section("scorecard", "部门履职")
    s.figures += figures(conn, SCORECARD_TOTALS, "marts.fct_department_scorecard", p, [
        ("departments", "有履职记录的部门", "个"), ("alerts_received", "收到预警", "条"),
        ("alerts_acknowledged", "已签收", "条"), ("alerts_handled_in_time", "按期处置", "条"),
        ("time_limit_items", "时限事项", "项"), ("time_limit_breaches", "超时限", "项"),
        ("clues_opened", "牵头新立线索", "条"), ("clues_resolved", "办结线索", "条")])
    cols = ", ".join(c for c, _ in SCORECARD_COLUMNS)
    listed = rows(conn, f"""
        select {cols} from marts.fct_department_scorecard where period_key = %(key)s
        order by alerts_received + time_limit_items + inspections_assigned + clues_opened desc, department_code
        limit {SCORECARD_ROWS}""", p)
    if listed:
        s.tables.append(Table(
            f"各部门履职情况（按事项总数排序，前 {SCORECARD_ROWS} 个部门）", "marts.fct_department_scorecard",
            [h for _, h in SCORECARD_COLUMNS],
            [[r[c] if c == "department_name" else fmt(r[c], "%" if c.endswith("_rate") else "")
              for c, _ in SCORECARD_COLUMNS] for r in listed]))
        top = [r for r in sorted(listed, key=lambda r: -r["alerts_received"]) if r["alerts_received"]][:10]
        if top:
            s.charts.append(Chart("收到预警最多的部门：收到与按期处置（条）", "marts.fct_department_scorecard",
                                  charts.bars([r["department_name"] for r in top],
                                              {"收到预警": [r["alerts_received"] for r in top],
                                               "按期处置": [r["alerts_handled_in_time"] for r in top]},
                                              horizontal=True, ylabel="条", height=3.4)))
    else:
        s.notes.append("本期各部门无预警、时限事项或抽查任务。")
    return s
