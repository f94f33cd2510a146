-- grain: one row per tender_id with at least one contract

{# A lot normally has one contract; when it has several (supplementary contracts,
    several winners of a framework lot) the amounts add up and the first signature
    dates the contract stage. #}

with contracts as (

    select * from {{ ref('stg_trading_centre__contracts') }}

),

final as (

    select
        tender_id,
        count(*) as contract_count,
        sum(contract_amount) as contract_amount,
        min(signed_at) as first_signed_at,
        max(signed_at) as last_signed_at,
        min(contract_id) as first_contract_id,
        count(distinct winner_id) as contract_party_count,
        min(winner_id) as contract_winner_id
    from contracts
    group by tender_id

)

select * from final
