-- grain: one row per rule_id x item_id (complaint, case or tender against one time limit)
-- Working-day time limits, computed in intermediate (int_time_limit_items_timed, where the
-- time-limit rules read them); this mart is what dashboards and reports read. A view of that
-- table, not a copy: the copy wrote all its rows again each night (scale 16: 218,731 rows,
-- 2.6 s), and a read of the view uses the table's index on rule_id, item_id.
{{ config(materialized='view') }}

with time_limits as (

    select * from {{ ref('int_time_limit_items_timed') }}

),

final as (

    select * from time_limits

)

-- every column of the intermediate model, by design: the mart is its published copy
select * from final  -- noqa: AM04
