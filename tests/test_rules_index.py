"""docs/rules.md: a reader finds a rule's SQL from its legal article, in either numeral form."""

from __future__ import annotations

import re

from ggzy import config, rules_index


def test_committed_rules_index_is_what_the_generator_writes():
    committed = (config.REPO / rules_index.DOC).read_text(encoding="utf-8")
    assert committed == rules_index.render(), "docs/rules.md is stale: run `ggzy rules index`"


def test_article_40_is_found_as_the_law_writes_it_and_as_the_seed_does():
    text = (config.REPO / rules_index.DOC).read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if "`a40_identical_price`" in line]
    assert len(rows) == 1
    assert "第40条" in rows[0] and "第四十条" in rows[0]
    # the row leads to the SQL that computes the rule
    model = re.search(r"\]\(\.\./(dbt_project/models/[^)]+\.sql)\)", rows[0])
    assert model and "a40_identical_price" in (config.REPO / model.group(1)).read_text(encoding="utf-8")


def test_every_rule_of_the_seed_has_a_row_and_a_model():
    for rule in rules_index.rules():
        assert rule.models, f"{rule.rule_id}: no model names this rule"


def test_chinese_numerals():
    assert [rules_index.chinese_numeral(n) for n in (1, 10, 12, 24, 40, 54, 100, 105, 110, 261)] == [
        "一", "十", "十二", "二十四", "四十", "五十四", "一百", "一百零五", "一百一十", "二百六十一"]
