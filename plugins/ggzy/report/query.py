"""Reading the marts for a period: one row or rows of a query run for a period, and
figures with their value in the period before (same query, previous period)."""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row

from ggzy.report.model import Figure
from ggzy.report.period import Period, add_months

YI = 100000000.0  # 亿元
WAN = 10000.0  # 万元


def rows(conn, sql: str, p: Period) -> list[dict[str, Any]]:
    """The query's rows as dicts; %(start)s, %(end)s (exclusive), %(key)s, %(kind)s are the period's."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, {"start": p.start, "end": p.end, "key": p.key, "kind": p.kind})
        return cur.fetchall()


def row(conn, sql: str, p: Period) -> dict[str, Any]:
    return rows(conn, sql, p)[0]


def figures(conn, sql: str, mart: str, p: Period, spec: list[tuple[str, str, str]]) -> list[Figure]:
    """One Figure per (column, label, unit) of the query's single row, with the previous period's value."""
    now, before = row(conn, sql, p), row(conn, sql, p.previous())
    return [Figure(col, label, now[col], before[col], mart, unit) for col, label, unit in spec]


def months(p: Period) -> Period:
    """The twelve months up to the end of the period (a trend needs more than one month)."""
    return Period("year", min(p.start, add_months(p.end, -12)), p.end)


# Totals used by more than one section (the overview repeats the headline numbers).
MARKET_TOTALS = """
    select coalesce(sum(lots_announced), 0) as lots_announced,
           coalesce(sum(lots_awarded), 0) as lots_awarded,
           round(coalesce(sum(award_price_total), 0) / %(yi)s, 2) as award_amount_yi,
           round(1 - sum(award_price_total) filter (where awarded_control_price_total > 0)
                 / nullif(sum(awarded_control_price_total), 0), 6) as savings_rate,
           round(sum(bidders_per_lot * lots_announced) filter (where bidders_per_lot is not null)
                 / nullif(sum(lots_announced) filter (where bidders_per_lot is not null), 0), 1) as bidders_per_lot,
           round(sum(single_bid_awards)::numeric / nullif(sum(lots_awarded), 0), 6) as single_bid_share,
           round(sum(avg_announcement_to_award_days * lots_awarded)
                 filter (where avg_announcement_to_award_days is not null)
                 / nullif(sum(lots_awarded) filter (where avg_announcement_to_award_days is not null), 0), 1)
               as announcement_to_award_days
    from marts.fct_market_monthly
    where month_start >= %(start)s and month_start < %(end)s
""".replace("%(yi)s", str(YI))

SIGNAL_TOTALS = """
    select count(*) as signals,
           count(*) filter (where severity = 'high') as high_signals,
           count(distinct tender_id) as tenders_signalled
    from marts.fct_risk_signals
    where signal_date >= %(start)s and signal_date < %(end)s
"""

SCORECARD_TOTALS = """
    select coalesce(sum(alerts_received), 0) as alerts_received,
           coalesce(sum(alerts_acknowledged), 0) as alerts_acknowledged,
           coalesce(sum(alerts_verified), 0) as alerts_verified,
           coalesce(sum(alerts_dismissed), 0) as alerts_dismissed,
           coalesce(sum(alerts_transferred), 0) as alerts_transferred,
           coalesce(sum(alerts_open), 0) as alerts_open,
           coalesce(sum(alerts_handled_in_time), 0) as alerts_handled_in_time,
           coalesce(sum(alerts_overdue), 0) as alerts_overdue,
           coalesce(sum(clues_opened), 0) as clues_opened,
           coalesce(sum(clues_resolved), 0) as clues_resolved,
           coalesce(sum(time_limit_items), 0) as time_limit_items,
           coalesce(sum(time_limit_breaches), 0) as time_limit_breaches,
           count(distinct department_code) as departments
    from marts.fct_department_scorecard
    where period_key = %(key)s
"""
