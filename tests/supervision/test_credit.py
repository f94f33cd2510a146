"""Credit records going out: the red list (守信红名单) published only for parties in good
standing; a decision on a red-listed party takes it off the red list."""

from __future__ import annotations


def test_red_list_is_the_records_in_force_of_parties_in_good_standing(sv):
    q = sv["q"]
    (as_of,), = q("select max(batch_date) from raw.batches where status = 'loaded'")
    recs = q("select record_id, entity_id, list_type, effective_from, effective_until, revoked_on"
             " from staging.stg_credit_china__records")

    def in_force(r):
        return r[3] <= as_of and (r[4] is None or r[4] >= as_of) and (r[5] is None or r[5] > as_of)

    black = {r[1] for r in recs if r[2] == "serious_dishonest" and in_force(r)}
    noticed = {r[0] for r in q("select subject_id from marts.fct_bad_conduct_records where notice_status = 'published'")}
    expected = {r[0] for r in recs if r[2] == "red_list" and in_force(r) and r[1] not in black | noticed}
    published = {r[0] for r in q("select record_id from disclosure.red_list")}
    assert published == expected
    assert {r[0] for r in recs if r[2] == "red_list"}, "the generated data has red-list records"


def test_a_decision_takes_a_party_off_the_red_list(sv):
    from ggzy.supervision import clues as c

    q, url = sv["q"], sv["url"]
    rows = q("select entity_id from disclosure.red_list order by entity_id limit 1")
    if not rows:  # every red-listed party is already excluded: make one in force by test data
        (entity,), = q("""update staging.stg_credit_china__records set effective_until = null, revoked_on = null,
                              effective_from = '2026-01-01'
                          where record_id = (select min(record_id) from staging.stg_credit_china__records
                                            where list_type = 'red_list') returning entity_id""")
        sv["dbt"]("disclosure_red_list")
        rows = q("select entity_id from disclosure.red_list where entity_id = %s", (entity,))
    (entity,), = rows
    (alert_id,), = q("select alert_id from ops.alerts where department_code is not null and not exists"
                     " (select 1 from ops.clues where source_id = alert_id) order by alert_id desc limit 1")
    clue = c.open_from_alert(alert_id, "王主任", url=url)
    c.set_status(clue, "verifying", "王主任", url=url)
    c.set_status(clue, "confirmed", "王主任", url=url)
    c.decide(clue, "云发改罚〔2026〕9号", "bidder", entity, "fraud", "罚款", "530000-DRC", "王主任", url=url)
    sv["dbt"]("fct_bad_conduct_records+")
    assert not q("select 1 from disclosure.red_list where entity_id = %s", (entity,))
    (score, status), = q("select score, notice_status from marts.fct_bad_conduct_records"
                         " where record_id = 'DEC-云发改罚〔2026〕9号'")
    assert (score, status) == (12, "published")
