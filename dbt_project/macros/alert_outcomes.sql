{#- What a department's verdict on an alert (ops.alerts.status, source alerts: the feedback of
    the night before) does to the risk it raised, defined once for fct_tender_risk,
    fct_entity_risk and fct_key_watch_list:
      - a dismissed alert (已排除) counts 0: its signal stays in fct_risk_signals but adds nothing
        to a lot's or an entity's risk and does not make a party recur on the key-watch list;
      - a verified or transferred alert (已查实 / 已移送) is upheld;
      - new and acknowledged alerts have no outcome yet and count in full.
    The rule weights' own feedback (verified rules weigh more) is source alerts.rule_precision.

    alert_outcome(status)          the closed outcome (verified, transferred, dismissed) or null
    alert_is_upheld(status)        verified or transferred
    alert_is_dismissed(status)     dismissed (null without an alert)
    alert_counts(status)           not dismissed (true for a signal without an alert)
    alert_weighted(amount, status) amount, or 0 when the alert was dismissed
-#}
{% macro alert_outcome(status) -%}
    case when {{ status }} in ('verified', 'transferred', 'dismissed') then {{ status }} end
{%- endmacro %}

{% macro alert_is_upheld(status) -%}
    ({{ status }} in ('verified', 'transferred'))
{%- endmacro %}

{% macro alert_is_dismissed(status) -%}
    ({{ status }} = 'dismissed')
{%- endmacro %}

{% macro alert_counts(status) -%}
    ({{ status }} is distinct from 'dismissed')
{%- endmacro %}

{% macro alert_weighted(amount, status) -%}
    case when {{ alert_is_dismissed(status) }} then 0 else {{ amount }} end
{%- endmacro %}
