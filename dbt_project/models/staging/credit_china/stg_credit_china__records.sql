-- grain: one row per record_id (newest delivered version)
-- Credit China list records; source raw.credit_china__records (records.jsonl of the credit_china feed)
with source as (

    select * from {{ source('credit_china', 'records') }}

),

typed as (

    select
        nullif(trim(record_id), '') as record_id,
        upper(trim(entity_id)) as entity_id,
        nullif(trim(entity_name), '') as entity_name,
        nullif(trim(list_type), '') as list_type,
        nullif(trim(reason), '') as reason,
        nullif(trim(authority), '') as authority,
        nullif(trim(decision_no), '') as decision_no,
        decided_on::date as decided_on,
        effective_from::date as effective_from,
        effective_until::date as effective_until,
        revoked_on::date as revoked_on,
        nullif(trim(measures), '') as measures,
        updated_at::timestamptz as updated_at,
        _batch_date as batch_date,
        _file as source_file,
        _line as source_line,
        _loaded_at as loaded_at,
        _extra as extra_columns
    from source

),

final as (

    select distinct on (record_id) *
    from typed
    order by record_id asc, updated_at desc nulls last, batch_date desc, source_line desc

)

select * from final
