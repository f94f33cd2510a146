-- grain: one row per entity_id (newest delivered version)
-- taxpayer status and credit rating; source raw.tax__taxpayers (taxpayers.csv of the tax feed)
with source as (

    select * from {{ source('tax', 'taxpayers') }}

),

typed as (

    select
        upper(trim(entity_id)) as entity_id,
        nullif(trim(entity_name), '') as entity_name,
        nullif(trim(taxpayer_status), '') as taxpayer_status,
        nullif(trim(credit_rating), '') as credit_rating,
        rating_year::integer as rating_year,
        tax_paid_last_year::numeric(18, 2) as tax_paid_last_year,
        invoiced_revenue_last_year::numeric(18, 2) as invoiced_revenue_last_year,
        insured_employees::integer as insured_employees,
        updated_at::timestamptz as updated_at,
        _batch_date as batch_date,
        _file as source_file,
        _line as source_line,
        _loaded_at as loaded_at,
        _extra as extra_columns
    from source

),

final as (

    select distinct on (entity_id) *
    from typed
    order by entity_id asc, updated_at desc nulls last, batch_date desc, source_line desc

)

select * from final
