-- grain: one row per rule_id x item_id (complaint, case or tender against one time limit)
-- (the rows of marts.fct_time_limits, built here so that the time-limit rules, int_signals_oversight,
-- read them below the marts)
{{ config(
    post_hook=[
        "{{ table_index(this, 'key', 'rule_id, item_id', unique=true) }}",
        "analyze {{ this }}",
    ],
) }}

{# Time limits counted in working days of mainland China (int_workdays: State Council
   notices incl. 调休; beyond the known years the statutory holidays of the `holidays`
   package and Monday-Friday, provisional: is_provisional, see due_calendar_source).
   The day an item starts is not counted: due_date = the limit_workdays-th working day
   after start_date; done on or before due_date is on time. An item still open after its
   due date on the analysis date is a breach as well (open_overdue). #}

with items as (

    select * from {{ ref('int_time_limit_items_unioned') }}

),

departments as (

    select * from {{ ref('departments') }}

),

workdays as (

    select * from {{ ref('int_workdays') }}

),

dated as (

    select
        items.*,
        {{ as_of_date() }} as as_of_date,
        case
            when items.limit_unit = 'calendar_days' then items.start_date + items.limit_workdays
            else {{ add_workdays('items.start_date', 'items.limit_workdays') }}
        end as due_date
    from items

),

measured as (

    select
        dated.*,
        due_day.calendar_source as due_calendar_source,
        dated.done_date is not null as is_done,
        case
            when dated.limit_unit = 'calendar_days'
                then coalesce(dated.done_date, dated.as_of_date) - dated.start_date
            when dated.done_date is not null
                then {{ workdays_between('dated.start_date', 'dated.done_date') }}
            else {{ workdays_between('dated.start_date', 'dated.as_of_date') }}
        end as workdays_used
    from dated
    left join workdays as due_day
        on dated.due_date = due_day.date_day
    where dated.start_date <= dated.as_of_date

),

-- a result rests on a provisional day (a year whose holiday notice is not entered yet) when
-- any day after the start up to the later of the due date and the day it was done (or the
-- analysis date, while open) is provisional: the count could change with the notice
provisional as (

    select
        measured.rule_id,
        measured.item_id,
        coalesce(span_end.provisional_seq - span_start.provisional_seq > 0, false) as is_provisional
    from measured
    left join workdays as span_start
        on measured.start_date = span_start.date_day
    left join workdays as span_end
        on greatest(measured.due_date, coalesce(measured.done_date, measured.as_of_date)) = span_end.date_day

),

final as (

    select
        measured.rule_id,
        measured.item_type,
        measured.item_id,
        measured.tender_id,
        measured.start_at,
        measured.start_date,
        measured.done_at,
        measured.done_date,
        measured.limit_workdays,
        measured.due_date,
        measured.due_calendar_source,
        provisional.is_provisional,
        case when provisional.is_provisional then '临时推定（节假日通知未发布）' else '国务院通知' end as calendar_basis_zh,
        measured.is_done,
        measured.workdays_used,
        greatest(measured.workdays_used - measured.limit_workdays, 0) as workdays_overdue,
        case
            when measured.due_date is null then 'no_calendar'
            when measured.is_done and measured.done_date > measured.due_date then 'late'
            when measured.period_days < {{ var('publicity_min_days', 3) }} then 'short_period'
            when measured.is_done then 'on_time'
            when measured.as_of_date > measured.due_date then 'open_overdue'
            else 'open'
        end as status,
        coalesce(
            (measured.is_done and measured.done_date > measured.due_date)
            or (not measured.is_done and measured.as_of_date > measured.due_date)
            or measured.period_days < {{ var('publicity_min_days', 3) }},
            false
        ) as is_breach,
        measured.limit_unit,
        measured.period_days,
        measured.responsible_department_code,
        measured.delivered_department_code,
        measured.is_department_code_unknown,
        departments.name_zh as responsible_department_name,
        departments.kind as responsible_department_kind,
        departments.region_code as responsible_region_code,
        measured.as_of_date
    from measured
    inner join provisional
        on measured.rule_id = provisional.rule_id
        and measured.item_id = provisional.item_id
    left join departments
        on measured.responsible_department_code = departments.code

)

select * from final
