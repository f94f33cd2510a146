-- grain: one row per rule x tender (lot), for the Art. 34 rules (a34_*): related bidders in one lot
-- 《招标投标法实施条例》第34条第2款: units whose responsible person is the same person, or between
-- which there is a controlling relationship, may not bid for the same lot. Computed per lot,
-- incrementally, in int_lots_related_bidders_signals; here its signals without the placeholder
-- rows of the lots where none was found, in the shape of every signal model (test signal_contract).
with lot_signals as (

    select * from {{ ref('int_lots_related_bidders_signals') }}

),

final as (

    select
        {{ signal_column_names() | join(',\n        ') }}
    from lot_signals
    where rule_id is not null

)

select * from final
