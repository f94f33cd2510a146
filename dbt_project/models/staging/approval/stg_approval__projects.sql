-- grain: one row per project_code (newest delivered version)
-- approved investment projects (一项一码); source raw.approval__projects (projects.jsonl of the approval feed)
with source as (

    select * from {{ source('approval', 'projects') }}

),

typed as (

    select
        project_code as project_code_raw,
        {{ normalize_project_code('project_code') }} as project_code,
        nullif(trim(project_name), '') as project_name,
        upper(trim(owner_id)) as owner_id,
        trim(region_code) as region_code,
        nullif(trim(industry), '') as industry,
        nullif(trim(approval_type), '') as approval_type,
        nullif(trim(approval_doc_no), '') as approval_doc_no,
        approved_at::timestamptz as approved_at,
        approved_investment::numeric(18, 2) as approved_investment,
        budget_amount::numeric(18, 2) as budget_amount,
        nullif(trim(funding_source), '') as funding_source,
        updated_at::timestamptz as updated_at,
        _batch_date as batch_date,
        _file as source_file,
        _line as source_line,
        _loaded_at as loaded_at,
        _extra as extra_columns
    from source

),

final as (

    select distinct on (project_code) *
    from typed
    order by project_code asc, updated_at desc nulls last, batch_date desc, source_line desc

)

select * from final
