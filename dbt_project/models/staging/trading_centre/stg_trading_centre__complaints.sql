-- grain: one row per complaint_id (newest delivered version)
-- complaints and reports (投诉/举报) versions; source raw.trading_centre__complaints (complaints.csv of the trading_centre feed)
with source as (

    select * from {{ source('trading_centre', 'complaints') }}

),

typed as (

    select
        nullif(trim(complaint_id), '') as complaint_id,
        nullif(trim(tender_id), '') as tender_id,
        nullif(trim(kind), '') as kind,
        nullif(trim(channel), '') as channel,
        received_at::timestamptz as received_at,
        nullif(trim(received_by), '') as received_by,
        nullif(trim(forwarded_to), '') as forwarded_to,
        forwarded_at::timestamptz as forwarded_at,
        accepted_at::timestamptz as accepted_at,
        resolved_at::timestamptz as resolved_at,
        feedback_at::timestamptz as feedback_at,
        nullif(trim(outcome), '') as outcome,
        updated_at::timestamptz as updated_at,
        _batch_date as batch_date,
        _file as source_file,
        _line as source_line,
        _loaded_at as loaded_at,
        _extra as extra_columns
    from source

),

final as (

    select distinct on (complaint_id) *
    from typed
    order by complaint_id asc, updated_at desc nulls last, batch_date desc, source_line desc

)

select * from final
