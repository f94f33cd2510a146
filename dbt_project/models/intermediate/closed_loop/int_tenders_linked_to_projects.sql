-- grain: one row per tender_id (every lot, linked to at most one approval project)
{{ config(
    post_hook=[
        "{{ table_index(this, 'tender', 'tender_id', unique=true) }}",
        "analyze {{ this }}",
    ],
) }}

{# 一项一码: a lot is linked to its approval project by the project code.
    1. exact       the delivered code is the approval code as it stands;
    2. normalised  equal after normalize_project_code (full-width digits, spaces, dashes);
    3. repaired    no project has the code, but exactly one candidate is clearly right:
                   candidates are projects of the same owner (= the lot's tenderer) or
                   with the same digits; score = 0.3 same owner + 0.1 same region + 0.3 name
                   similarity + 0.3 code similarity (macros/similarity.sql); repaired when the best score reaches
                   var link_repair_min_score and beats the runner-up by var link_repair_margin;
    4. unmatched   no code, or no clear candidate (unlinked_reason says which). #}

with tenders as (

    select * from {{ ref('stg_trading_centre__tenders') }}

),

projects as (

    select * from {{ ref('stg_approval__projects') }}

),

coded as (

    select
        tender_id,
        tender_name,
        tenderer_id,
        region_code,
        category,
        project_code_raw,
        project_code as project_code_normalised,
        coalesce({{ is_valid_project_code('project_code') }}, false) as is_well_formed,
        {{ code_digits('project_code') }} as code_digits,
        {{ name_key('tender_name') }} as name_key
    from tenders

),

project_keys as (

    select
        project_code,
        owner_id,
        region_code,
        {{ code_digits('project_code') }} as code_digits,
        {{ name_key('project_name') }} as name_key
    from projects

),

direct_links as (

    select
        coded.tender_id,
        project_keys.project_code,
        case
            when coded.project_code_raw = project_keys.project_code then 'exact'
            else 'normalised'
        end as link_method
    from coded
    inner join project_keys
        on coded.project_code_normalised = project_keys.project_code

),

unlinked as (

    select coded.*
    from coded
    left join direct_links
        on coded.tender_id = direct_links.tender_id
    where direct_links.tender_id is null
        and coded.project_code_raw is not null

),

candidate_pairs as (

    select
        unlinked.tender_id,
        project_keys.project_code
    from unlinked
    inner join project_keys
        on unlinked.tenderer_id = project_keys.owner_id
    union
    select
        unlinked.tender_id,
        project_keys.project_code
    from unlinked
    inner join project_keys
        on unlinked.code_digits = project_keys.code_digits
    where unlinked.code_digits <> ''

),

candidates as (

    select
        unlinked.tender_id,
        project_keys.project_code,
        coalesce(unlinked.tenderer_id = project_keys.owner_id, false) as same_owner,
        coalesce(unlinked.region_code = project_keys.region_code, false) as same_region,
        {{ bigram_dice('unlinked.name_key', 'project_keys.name_key') }} as name_similarity,
        {{ digit_similarity('unlinked.code_digits', 'project_keys.code_digits') }} as code_similarity
    from candidate_pairs
    inner join unlinked
        on candidate_pairs.tender_id = unlinked.tender_id
    inner join project_keys
        on candidate_pairs.project_code = project_keys.project_code

),

scored as (

    select
        *,
        round(
            0.3 * same_owner::integer
            + 0.1 * same_region::integer
            + 0.3 * name_similarity
            + 0.3 * code_similarity,
            4
        ) as candidate_score
    from candidates

),

ranked as (

    select
        *,
        row_number() over (
            partition by tender_id order by candidate_score desc, project_code asc
        ) as candidate_rank,
        lead(candidate_score) over (
            partition by tender_id order by candidate_score desc, project_code asc
        ) as runner_up_score,
        count(*) over (partition by tender_id) as candidate_count
    from scored

),

best_candidates as (

    select * from ranked
    where candidate_rank = 1

),

final as (

    select
        coded.tender_id,
        coded.category,
        coded.project_code_raw,
        coded.project_code_normalised,
        coded.is_well_formed as project_code_well_formed,
        case
            when direct_links.tender_id is not null then direct_links.project_code
            when
                best_candidates.candidate_score >= {{ var('link_repair_min_score') }}
                and best_candidates.candidate_score - coalesce(best_candidates.runner_up_score, 0)
                >= {{ var('link_repair_margin') }}
                then best_candidates.project_code
        end as project_code,
        case
            when direct_links.tender_id is not null then direct_links.link_method
            when
                best_candidates.candidate_score >= {{ var('link_repair_min_score') }}
                and best_candidates.candidate_score - coalesce(best_candidates.runner_up_score, 0)
                >= {{ var('link_repair_margin') }}
                then 'repaired'
            else 'unmatched'
        end as link_method,
        case
            when direct_links.tender_id is not null then null
            when coded.project_code_raw is null then 'no_code'
            when
                best_candidates.candidate_score >= {{ var('link_repair_min_score') }}
                and best_candidates.candidate_score - coalesce(best_candidates.runner_up_score, 0)
                >= {{ var('link_repair_margin') }}
                then null
            when best_candidates.tender_id is null and coded.is_well_formed then 'code_not_found'
            when best_candidates.tender_id is null then 'malformed_no_candidate'
            when best_candidates.candidate_score < {{ var('link_repair_min_score') }} then 'weak_candidate'
            else 'ambiguous_candidates'
        end as unlinked_reason,
        case when direct_links.tender_id is not null then 1.0 else best_candidates.candidate_score end
            as link_score,
        best_candidates.project_code as best_candidate_project_code,
        best_candidates.candidate_score as best_candidate_score,
        best_candidates.runner_up_score,
        coalesce(best_candidates.candidate_count, 0) as candidate_count,
        best_candidates.same_owner as best_candidate_same_owner,
        best_candidates.same_region as best_candidate_same_region,
        round(best_candidates.name_similarity, 4) as best_candidate_name_similarity,
        round(best_candidates.code_similarity, 4) as best_candidate_code_similarity
    from coded
    left join direct_links
        on coded.tender_id = direct_links.tender_id
    left join best_candidates
        on coded.tender_id = best_candidates.tender_id

)

select * from final
