-- Every department the live case files name is one of seeds/departments.csv: the departments
-- fct_department_scorecard counts come from these case files (an alert's department, a clue's
-- lead department, an inspection team's lead, slot 1, which fct_sampling_followup takes) and
-- from fct_department_scorecard_time_limits (tested there), and nowhere else. Checking the case
-- files where they are written replaces the relationships test on the view's department_code,
-- which computed the whole scorecard, fct_alert_handling's deadlines of every alert included,
-- at the end of the night (scale 16: 4.6 s). A new kind of activity counted in the scorecard
-- names its departments here too.
with alerts as (

    select * from {{ source('alerts', 'alerts') }}

),

clue_departments as (

    select * from {{ source('supervision', 'clue_departments') }}

),

draw_inspectors as (

    select * from {{ source('sampling', 'draw_inspectors') }}

),

departments as (

    select * from {{ ref('departments') }}

),

named as (

    select
        'alert' as case_file,
        department_code
    from alerts
    where department_code is not null

    union

    select
        'clue' as case_file,
        department_code
    from clue_departments
    where role = 'lead' and department_code is not null

    union

    select
        'inspection' as case_file,
        department_code
    from draw_inspectors
    where slot = 1 and department_code is not null

)

select
    named.case_file,
    named.department_code
from named
left join departments on named.department_code = departments.code
where departments.code is null
