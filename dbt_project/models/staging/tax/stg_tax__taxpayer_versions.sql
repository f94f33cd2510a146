-- grain: one row per entity_id x updated_at (every delivered version, not only the newest)
-- taxpayer status and credit rating change over time (非正常户 today, normal at the award);
-- the rules judge the status as it stood on the date of the act, so they need every version.
-- Hand-written next to the generated stg_tax__taxpayers (same casts): the generator
-- (tools/gen_staging.py) only makes newest-version models.
with source as (

    select * from {{ source('tax', 'taxpayers') }}

),

typed as (

    select
        upper(trim(entity_id)) as entity_id,
        nullif(trim(taxpayer_status), '') as taxpayer_status,
        nullif(trim(credit_rating), '') as credit_rating,
        rating_year::integer as rating_year,
        tax_paid_last_year::numeric(18, 2) as tax_paid_last_year,
        insured_employees::integer as insured_employees,
        updated_at::timestamptz as updated_at,
        _batch_date as batch_date,
        _line as source_line
    from source

),

final as (

    -- the same version delivered twice (re-delivered batch, duplicated row): the newest delivery
    select distinct on (entity_id, updated_at) *
    from typed
    where updated_at is not null
    order by entity_id asc, updated_at asc, batch_date desc, source_line desc

)

select * from final
