-- grain: one row per calendar day, from the first exported day to two years past the analysis date
{{ config(
    post_hook=[
        "{{ table_index(this, 'date_day', 'date_day', unique=true, include='workday_seq, is_workday') }}",
        "{{ table_index(this, 'seq', 'workday_seq', include='date_day', where='is_workday') }}",
        "analyze {{ this }}",
    ],
) }}

with holiday_calendar as (

    select * from {{ ref('holiday_calendar') }}

),

calendar_overrides as (

    select * from {{ ref('calendar_overrides') }}

),

provisional_holidays as (

    select * from {{ ref('holiday_calendar_provisional') }}

),

-- years whose State Council notice is known: exported, or entered by the office in
-- calendar_overrides with the notice's number. Any other day is provisional.
notice_years as (

    select distinct extract(year from calendar_date)::integer as calendar_year from holiday_calendar
    union
    select distinct extract(year from calendar_date)::integer as calendar_year from calendar_overrides
    where notice is not null

),

bounds as (

    select
        min(calendar_date) as first_day,
        greatest(
            max(calendar_date),
            ({{ as_of_date() }}) + 730,
            (select max(o.calendar_date) from calendar_overrides as o),
            (select max(p.calendar_date) from provisional_holidays as p)
        ) as last_day
    from holiday_calendar

),

days as (

    select gs.day::date as date_day
    from bounds
    cross join lateral generate_series(bounds.first_day, bounds.last_day, interval '1 day') as gs (day)

),

classified as (

    select
        days.date_day,
        extract(isodow from days.date_day)::integer as iso_day_of_week,
        coalesce(
            calendar_overrides.is_workday,
            holiday_calendar.is_workday,
            case when notice_years.calendar_year is null and provisional_holidays.calendar_date is not null then false end,
            extract(isodow from days.date_day) < 6
        ) as is_workday,
        case
            when calendar_overrides.calendar_date is not null
                then case
                        when calendar_overrides.is_workday and extract(isodow from days.date_day) >= 6
                            then 'adjusted_workday'
                        when calendar_overrides.is_workday then 'workday'
                        when extract(isodow from days.date_day) >= 6 then 'weekend'
                        else 'holiday'
                    end
            when holiday_calendar.calendar_date is not null then holiday_calendar.day_kind
            when notice_years.calendar_year is null and provisional_holidays.calendar_date is not null then 'holiday'
            when extract(isodow from days.date_day) >= 6 then 'weekend'
            else 'workday'
        end as day_kind,
        coalesce(
            calendar_overrides.note,
            holiday_calendar.holiday_name_zh,
            case when notice_years.calendar_year is null then provisional_holidays.holiday_name_zh end
        ) as holiday_name_zh,
        case
            when calendar_overrides.notice is not null then 'state_council_notice'
            when calendar_overrides.calendar_date is not null then 'office_override'
            when holiday_calendar.calendar_date is not null then 'state_council_notice'
            when notice_years.calendar_year is not null then 'state_council_notice'
            when provisional_holidays.calendar_date is not null then 'provisional_statutory'
            else 'weekend_fallback'
        end as calendar_source
    from days
    left join holiday_calendar
        on days.date_day = holiday_calendar.calendar_date
    left join calendar_overrides
        on days.date_day = calendar_overrides.calendar_date
    left join provisional_holidays
        on days.date_day = provisional_holidays.calendar_date
    left join notice_years
        on extract(year from days.date_day)::integer = notice_years.calendar_year

),

final as (

    select
        date_day,
        extract(year from date_day)::integer as calendar_year,
        iso_day_of_week,
        is_workday,
        day_kind,
        holiday_name_zh,
        calendar_source,
        -- no notice known for the day's year: its status is the statutory guess of
        -- holiday_calendar_provisional (holidays) or Monday-Friday, and may change
        calendar_source in ('provisional_statutory', 'weekend_fallback') as is_provisional,
        count(*) filter (where is_workday) over (
            order by date_day rows between unbounded preceding and current row
        )::integer as workday_seq,
        -- provisional days up to and including this one: a span (a, b] rests on a
        -- provisional day when provisional_seq(b) > provisional_seq(a)
        count(*) filter (
            where calendar_source in ('provisional_statutory', 'weekend_fallback')
        ) over (order by date_day rows between unbounded preceding and current row)::integer as provisional_seq
    from classified

)

select * from final
