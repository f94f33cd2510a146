-- grain: one row per credit record (record_id) with the interval it is in force
-- Credit China records as validity intervals, computed in intermediate (int_credit_record_intervals,
-- where the credit rules read them); this mart is what dashboards, dim_entity and reports read.
{{ config(
    post_hook=[
        "{{ table_index(this, 'record', 'record_id', unique=true) }}",
        "{{ table_index(this, 'entity', 'entity_id, list_type') }}",
        "analyze {{ this }}",
    ],
) }}

with credit_intervals as (

    select * from {{ ref('int_credit_record_intervals') }}

),

final as (

    select * from credit_intervals

)

-- every column of the intermediate model, by design: the mart is its published copy
select * from final  -- noqa: AM04
