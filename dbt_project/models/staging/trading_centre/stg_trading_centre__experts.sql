-- grain: one row per expert_id (newest delivered version)
-- evaluation experts (评标专家); source raw.trading_centre__experts (experts.csv of the trading_centre feed)
with source as (

    select * from {{ source('trading_centre', 'experts') }}

),

typed as (

    select
        nullif(trim(expert_id), '') as expert_id,
        nullif(trim(expert_name), '') as expert_name,
        upper(trim(employer_id)) as employer_id,
        nullif(trim(specialty), '') as specialty,
        trim(region_code) as region_code,
        updated_at::timestamptz as updated_at,
        _batch_date as batch_date,
        _file as source_file,
        _line as source_line,
        _loaded_at as loaded_at,
        _extra as extra_columns
    from source

),

final as (

    select distinct on (expert_id) *
    from typed
    order by expert_id asc, updated_at desc nulls last, batch_date desc, source_line desc

)

select * from final
