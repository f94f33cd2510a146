-- grain: one row per tender_id x expert_id x bidder_id (newest delivered version)
-- expert x bidder scores; source raw.trading_centre__evaluations (evaluations.csv of the trading_centre feed)
with source as (

    select * from {{ source('trading_centre', 'evaluations') }}

),

typed as (

    select
        nullif(trim(tender_id), '') as tender_id,
        nullif(trim(expert_id), '') as expert_id,
        upper(trim(bidder_id)) as bidder_id,
        trim(site) as site,
        tech_score::numeric as tech_score,
        commercial_score::numeric as commercial_score,
        price_score::numeric as price_score,
        total_score::numeric as total_score,
        evaluated_at::timestamptz as evaluated_at,
        _batch_date as batch_date,
        _file as source_file,
        _line as source_line,
        _loaded_at as loaded_at,
        _extra as extra_columns
    from source

),

final as (

    select distinct on (tender_id, expert_id, bidder_id) *
    from typed
    order by tender_id asc, expert_id asc, bidder_id asc, evaluated_at desc nulls last, batch_date desc, source_line desc

)

select * from final
