{#- Was an entity under a credit measure (default: bid_ban, 禁止参与招标投标) on a date?
    Reads int_credit_record_intervals (the rows of marts.dim_entity_credit_intervals, so any
    layer may call it): serious-dishonest records in force on the
    date, an interval [valid_from, valid_to) that ends at expiry or at revocation
    (信用修复/移出), whichever comes first. Example (a bid by a banned bidder):

        select bids.*
        from {{ ref('stg_trading_centre__bids') }} as bids
        where {{ entity_under_measure_on('bids.bidder_id', local_date('bids.submitted_at')) }}
-#}
{% macro entity_under_measure_on(entity_expr, date_expr, measure='bid_ban') -%}
    exists (
        select 1
        from {{ ref('int_credit_record_intervals') }} as ci
        where ci.entity_id = ({{ entity_expr }})
            and ci.list_type = 'serious_dishonest'
            and '{{ measure }}' = any(ci.measure_list)
            and ci.valid_during @> ({{ date_expr }})::date
    )
{%- endmacro %}
