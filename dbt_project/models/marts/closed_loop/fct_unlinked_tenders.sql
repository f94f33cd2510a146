-- grain: one row per tender whose project code did not link as delivered (or is missing where required)

with links as (

    select * from {{ ref('int_tenders_linked_to_projects') }}

),

tenders as (

    select * from {{ ref('stg_trading_centre__tenders') }}

),

projects as (

    select * from {{ ref('stg_approval__projects') }}

),

assignments as (

    select * from {{ ref('int_tenders_assigned_to_departments') }}

),

final as (

    select
        links.tender_id,
        tenders.tender_name,
        tenders.category,
        tenders.region_code,
        assignments.prefecture_code,
        tenders.tenderer_id,
        tenders.announced_at,
        links.project_code_raw,
        links.project_code_well_formed,
        links.link_method,
        links.unlinked_reason,
        case when links.link_method = 'repaired' then links.project_code end as repaired_project_code,
        links.best_candidate_project_code,
        candidate.project_name as best_candidate_project_name,
        links.best_candidate_score,
        links.runner_up_score,
        links.candidate_count,
        links.best_candidate_same_owner,
        links.best_candidate_same_region,
        links.best_candidate_name_similarity,
        links.best_candidate_code_similarity,
        assignments.supervising_department_code,
        case when links.project_code_raw is null then 'cl_no_approval' else 'cl_broken_link' end as rule_id
    from links
    inner join tenders
        on links.tender_id = tenders.tender_id
    left join projects as candidate
        on links.best_candidate_project_code = candidate.project_code
    left join assignments
        on links.tender_id = assignments.tender_id
    where links.link_method in ('repaired', 'unmatched')
        and (
            links.project_code_raw is not null
            or tenders.category in (
                {%- for c in var('approval_required_categories') %}'{{ c }}'{{ ", " if not loop.last }}{% endfor -%}
            )
        )

)

select * from final
