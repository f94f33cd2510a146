-- grain: one row per project_code x tender_id x milestone (newest delivered version)
-- project milestones; source raw.approval__milestones (milestones.jsonl of the approval feed)
with source as (

    select * from {{ source('approval', 'milestones') }}

),

typed as (

    select
        project_code as project_code_raw,
        {{ normalize_project_code('project_code') }} as project_code,
        nullif(trim(tender_id), '') as tender_id,
        nullif(trim(milestone), '') as milestone,
        occurred_on::date as occurred_on,
        amount::numeric(18, 2) as amount,
        updated_at::timestamptz as updated_at,
        _batch_date as batch_date,
        _file as source_file,
        _line as source_line,
        _loaded_at as loaded_at,
        _extra as extra_columns
    from source

),

final as (

    select distinct on (project_code, tender_id, milestone) *
    from typed
    order by project_code asc, tender_id asc, milestone asc, updated_at desc nulls last, batch_date desc, source_line desc

)

select * from final
