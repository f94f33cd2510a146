-- grain: one row per rule_id x item_id (complaint, case or tender against one time limit)
-- Working-day time limits, computed in intermediate (int_time_limit_items_timed, where the
-- time-limit rules read them); this mart is what dashboards and reports read.
{{ config(
    post_hook=[
        "{{ table_index(this, 'key', 'rule_id, item_id', unique=true) }}",
        "analyze {{ this }}",
    ],
) }}

with time_limits as (

    select * from {{ ref('int_time_limit_items_timed') }}

),

final as (

    select * from time_limits

)

-- every column of the intermediate model, by design: the mart is its published copy
select * from final  -- noqa: AM04
