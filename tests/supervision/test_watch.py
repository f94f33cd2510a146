"""Tracking mode: `ggzy watch add/remove` (audited); a watched entity in a lot from its start
date raises an alert; 评定分离 lots are under key supervision automatically."""

from __future__ import annotations


def test_a_watched_entity_in_a_new_lot_raises_an_alert_and_removal_is_audited(sv):
    ggzy, q = sv["ggzy"], sv["q"]
    # a bidder with lots before and after 1 Oct
    (entity,), = q("""select b.bidder_id from staging.stg_trading_centre__bids b
                      join staging.stg_trading_centre__tenders t using (tender_id)
                      group by 1 having min((t.announced_at at time zone 'Asia/Shanghai')::date) < '2026-10-01'
                         and max((t.announced_at at time zone 'Asia/Shanghai')::date) >= '2026-10-01'
                      order by 1 limit 1""")
    expected = {r[0] for r in q("""select distinct t.tender_id from staging.stg_trading_centre__tenders t
                                   left join staging.stg_trading_centre__bids b using (tender_id)
                                   where (b.bidder_id = %(e)s or t.tenderer_id = %(e)s or t.agency_id = %(e)s)
                                     and (t.announced_at at time zone 'Asia/Shanghai')::date >= '2026-10-01'""",
                                {"e": entity})}
    unknown = ggzy("watch", "add", "entity", "91530000NOBODY0000", "--reason", "x", "--by", "王主任", check=False)
    assert unknown.returncode == 1 and "no entity" in unknown.stderr
    ggzy("watch", "add", "entity", entity, "--reason", "曾有串标嫌疑", "--from", "2026-10-01", "--by", "协同监管办王主任")
    sv["dbt"]("fct_watch_signals", "fct_key_watch_list")
    ggzy("alerts", "sync", "--run-id", "test-watch")
    raised = {r[0] for r in q("select tender_id from ops.alerts where rule_id = 'wt_watched_entity' and is_active"
                              " and %s = any(entity_ids)", (entity,))}
    assert raised == expected and expected
    (reasons, by), = q("select reasons, listed_by from marts.fct_key_watch_list where party_id = %s", (entity,))
    assert "office_listed" in reasons and by == "协同监管办王主任"

    ggzy("watch", "remove", "entity", entity, "--note", "核查无问题", "--by", "协同监管办李副主任")
    sv["dbt"]("fct_watch_signals", "fct_key_watch_list")
    ggzy("alerts", "sync", "--run-id", "test-watch-2")
    assert not q("select 1 from ops.alerts where rule_id = 'wt_watched_entity' and is_active and %s = any(entity_ids)",
                 (entity,))
    history = q("select event, actor, note from ops.watch_events where party_id = %s order by event_id", (entity,))
    assert [(e, a) for e, a, _ in history] == [("add", "协同监管办王主任"), ("remove", "协同监管办李副主任")]
    assert "曾有串标嫌疑" in ggzy("watch", "list", "--all").stdout


def test_evaluation_separated_lots_are_under_key_supervision(sv):
    q = sv["q"]
    separated = {r[0] for r in q("select tender_id from staging.stg_trading_centre__tenders where evaluation_separated")}
    assert separated, "the generated data has 评定分离 lots"
    listed = {r[0] for r in q("select party_id from marts.fct_key_watch_list where party_type = 'tender'"
                              " and 'evaluation_separated' = any(reasons)")}
    assert listed == separated
    alerted = {r[0] for r in q("select tender_id from ops.alerts where rule_id = 'wt_evaluation_separated'")}
    assert alerted == separated
