{#- The shape of a risk signal (风险信号), defined once. Every int_signals_* model ends in
    signals_union([...]); marts.fct_risk_signals unions the models by these columns, and the
    generic test signal_contract checks each built table against this list.

      rule_id          text    seed risk_rules
      subject_type     text    tender (the lot, 标段), entity, expert pair, complaint, case, ...
      subject_id       text    the subject's key (tender_id for a lot)
      tender_id        text    the lot concerned, null when the subject is not one lot
      entity_ids       text[]  market entities involved (USCC)
      expert_ids       text[]  evaluation experts involved
      signal_date      date    when the act happened (bid, award, breach)
      score            numeric 0..1, strength of the evidence (1 = a rule that holds or not)
      evidence         jsonb   what a reviewer checks first
      department_code  text    the department responsible when the rule names it (time limits);
                               null = the lot's supervising department (fct_risk_signals)
-#}
{% macro signal_columns() -%}
    {{ return([
        ('rule_id', 'text'),
        ('subject_type', 'text'),
        ('subject_id', 'text'),
        ('tender_id', 'text'),
        ('entity_ids', 'text[]'),
        ('expert_ids', 'text[]'),
        ('signal_date', 'date'),
        ('score', 'numeric'),
        ('evidence', 'jsonb'),
        ('department_code', 'text'),
    ]) }}
{%- endmacro %}


{% macro signal_column_names() -%}
    {{ return(signal_columns() | map('first') | list) }}
{%- endmacro %}


{#- The rows an incremental per-lot signal model (replace_changed_keys, macros/changed_keys.sql)
    writes: every lot of `changed` with its rows of `signals` (a CTE of signals_union), or one
    placeholder row (rule_id null) for a lot with none, so that its input_fingerprint is kept and
    the lot is not recomputed every night; a tombstone's (fingerprint null) is dropped by the
    strategy. tender_id is the changed lot's, the other signal columns the signal's, then
    input_fingerprint. Defined once: the models that write it must write the same columns. -#}
{% macro signals_by_changed_lot(changed, signals) -%}
    select
        {%- for name in signal_column_names() %}
        {{ changed if name == 'tender_id' else signals }}.{{ name }},
        {%- endfor %}
        {{ changed }}.input_fingerprint
    from {{ changed }}
    left join {{ signals }} on {{ changed }}.tender_id = {{ signals }}.tender_id
{%- endmacro %}


{#- One select per rule (or per CTE holding several rules), joined by union all. Each part is a
    dict: `from` (a CTE or a join) and any column of signal_columns() as a SQL expression; the
    defaults describe a signal about one lot:
        rule_id = 'rule_id' (a column; pass "'pf_single_bid'" for a constant),
        subject_type = 'tender', subject_id = tender_id, tender_id = tender_id,
        entity_ids = entity_ids, expert_ids = null, signal_date = signal_date, score = 1.0,
        evidence = evidence, department_code = null.
    Example:
        final as (
            {{ signals_union([
                {'rule_id': "'cr_banned_bidder'", 'from': 'banned_signals', 'score': 'score'},
                {'rule_id': "'cr_shell_winner'", 'from': 'shell_signals'},
            ]) }}
        )
-#}
{% macro signals_union(parts) -%}
    {%- set defaults = {
        'rule_id': 'rule_id',
        'subject_type': "'tender'",
        'subject_id': 'tender_id',
        'tender_id': 'tender_id',
        'entity_ids': 'entity_ids',
        'expert_ids': 'null',
        'signal_date': 'signal_date',
        'score': '1.0',
        'evidence': 'evidence',
        'department_code': 'null',
    } -%}
    {%- for part in parts %}
    select
        {%- for name, data_type in signal_columns() %}
        ({{ part.get(name, defaults[name]) }})::{{ data_type }} as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ part['from'] }}
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}
{%- endmacro %}


{#- The built table has exactly the columns of signal_columns(), in that order and of those
    types: a row per difference (missing, extra, moved or of another type). -#}
{% test signal_contract(model) %}
    with expected (position, column_name, data_type) as (

        values
        {%- for name, data_type in signal_columns() %}
        ({{ loop.index }}, '{{ name }}', '{{ data_type }}'){{ ',' if not loop.last }}
        {%- endfor %}

    ),

    actual as (

        select
            row_number() over (order by attnum) as position,
            attname::text as column_name,
            format_type(atttypid, atttypmod) as data_type
        from pg_attribute
        where attrelid = '{{ model }}'::regclass and attnum > 0 and not attisdropped

    )

    select
        coalesce(expected.column_name, actual.column_name) as column_name,
        expected.position as expected_position,
        actual.position as actual_position,
        expected.data_type as expected_type,
        actual.data_type as actual_type
    from expected
    full outer join actual on expected.column_name = actual.column_name
    where
        expected.column_name is null
        or actual.column_name is null
        or expected.position <> actual.position
        or expected.data_type <> actual.data_type
{% endtest %}
