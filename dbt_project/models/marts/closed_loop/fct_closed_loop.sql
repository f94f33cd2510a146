-- grain: one row per tender (tender lot, 标段)
-- The closed loop (闭环监管) of each lot, computed in intermediate (int_tenders_traced_through_closed_loop,
-- where the closed-loop rules read it); this mart is what dashboards and reports read.
{{ config(
    post_hook=[
        "{{ table_index(this, 'tender', 'tender_id', unique=true) }}",
        "analyze {{ this }}",
    ],
) }}

with closed_loop as (

    select * from {{ ref('int_tenders_traced_through_closed_loop') }}

),

final as (

    select * from closed_loop

)

-- every column of the intermediate model, by design: the mart is its published copy
select * from final  -- noqa: AM04
