-- grain: one row per case_id (newest delivered version)
-- violations handled (处理决定); source raw.trading_centre__cases (cases.csv of the trading_centre feed)
with source as (

    select * from {{ source('trading_centre', 'cases') }}

),

typed as (

    select
        nullif(trim(case_id), '') as case_id,
        nullif(trim(tender_id), '') as tender_id,
        nullif(trim(subject_type), '') as subject_type,
        nullif(trim(subject_id), '') as subject_id,
        nullif(trim(violation), '') as violation,
        nullif(trim(decided_by), '') as decided_by,
        decided_at::timestamptz as decided_at,
        nullif(trim(penalty), '') as penalty,
        guest_site_notified_at::timestamptz as guest_site_notified_at,
        updated_at::timestamptz as updated_at,
        _batch_date as batch_date,
        _file as source_file,
        _line as source_line,
        _loaded_at as loaded_at,
        _extra as extra_columns
    from source

),

final as (

    select distinct on (case_id) *
    from typed
    order by case_id asc, updated_at desc nulls last, batch_date desc, source_line desc

)

select * from final
