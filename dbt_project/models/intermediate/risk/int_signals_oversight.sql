-- grain: one row per rule x subject, for the closed-loop (cl_*) and time-limit (tl_*) flags
-- (int_tenders_traced_through_closed_loop, int_time_limit_items_timed: the rows of the marts
-- fct_closed_loop and fct_time_limits), in the shape of a risk signal
{%- set cl_rules = [
    'cl_no_approval', 'cl_award_above_control', 'cl_contract_deviation', 'cl_start_before_award',
    'cl_settlement_overrun', 'cl_stage_overdue', 'cl_broken_link',
] %}

with closed_loop as (

    select * from {{ ref('int_tenders_traced_through_closed_loop') }}

),

time_limits as (

    select * from {{ ref('int_time_limit_items_timed') }}

),

closed_loop_flags as (

    select
        flags.rule_id,
        closed_loop.tender_id,
        jsonb_strip_nulls(to_jsonb(closed_loop)) as doc
    from closed_loop
    cross join
        lateral (
            values
            {%- for r in cl_rules %}
            ('{{ r }}', closed_loop.{{ r }}){% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as flags (rule_id, flagged)
    where flags.flagged

),

closed_loop_signals as (

    select
        rule_id,
        tender_id,
        array_remove(array[doc ->> 'tenderer_id', doc ->> 'winner_id'], null) as entity_ids,
        coalesce((doc ->> 'award_date')::date, (doc ->> 'as_of_date')::date) as signal_date,
        -- the lot's closed-loop record, without the flag columns themselves
        doc
        - array[
            {% for r in cl_rules %}'{{ r }}',
            {% endfor %}'flag_count',
            'flagged_rule_ids'
        ] as evidence
    from closed_loop_flags

),

time_limit_breaches as (

    select
        rule_id,
        item_type,
        item_id,
        tender_id,
        coalesce(done_date, due_date) as signal_date,
        jsonb_strip_nulls(jsonb_build_object(
            'item_type', item_type, 'start_at', start_at, 'done_at', done_at,
            'limit_workdays', limit_workdays, 'due_date', due_date, 'workdays_used', workdays_used,
            'workdays_overdue', workdays_overdue, 'status', status,
            'limit_unit', limit_unit, 'publicity_days', period_days
        )) as evidence,
        responsible_department_code
    from time_limits
    where is_breach

),

final as (

    {{ signals_union([
        {'from': 'closed_loop_signals'},
        {'from': 'time_limit_breaches', 'subject_type': 'item_type', 'subject_id': 'item_id',
            'entity_ids': 'null', 'department_code': 'responsible_department_code'},
    ]) }}

)

select * from final
