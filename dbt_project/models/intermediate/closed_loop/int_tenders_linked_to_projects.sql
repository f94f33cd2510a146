-- grain: one row per tender_id (every lot, linked to at most one approval project)
-- Incremental by what changed (macros/changed_keys.sql): a lot's link depends on its own row and
-- on the projects that can be its link, not on the rest of the history. A lot whose normalised
-- code is a project's is linked by that alone; a lot with a code and no such project is judged
-- among its repair candidates (its owner's projects and those with its digits), and any of them
-- added, changed or gone can change its best candidate, the runner-up's score or the count. Its
-- fingerprint is therefore over its row, the project its code names (if any) and, for a lot to
-- repair, the fingerprints of its owner's projects and of its digits' (the columns the scores
-- read) and the vars of the repair: a night re-links the lots it delivered and the lots to repair
-- whose candidate groups it changed, not the history (59 s at scale 16 rebuilt whole, issue #18).
-- A night fingerprints only the lots that may have changed (macro changed_keys_since_last_staged,
-- macros/change_log.sql; every lot after a re-delivered day of the trading centre): those whose tender
-- rows were stamped since the last build, and every lot kept as one to repair (a few in a thousand:
-- a project that joins, changes or leaves one of their candidate groups is found by their
-- fingerprints, stamped or not, including a project that moved to another owner, whose former
-- owner no stamped row names, and a project now named by one's code). A lot linked directly
-- depends on no column of its project: only on its being there. A row that goes leaves no stamp,
-- in a re-delivered day or deleted by hand: when staging's lots do not number the table's plus
-- the new ones, or a project a kept lot is linked to is no longer in staging (counted as the
-- model compiles, on the key indexes), every lot is compared. Fingerprinting every lot of the
-- history was most of the night's select (scale 1: 0.40 of 0.56 s; the model took 10.0 s of a
-- scale-16 night).
{%- set salt = "'" ~ var('link_repair_min_score') ~ "/" ~ var('link_repair_margin') ~ "'" %}
{#- pre_hook: a table built before the model was incremental gains the column (null), so its
    first incremental run re-links every lot, as a full refresh would (no deploy step); nested
    loops off: the planner takes the fingerprints' group-by for 200 rows and nested-looped the
    changed lots (every lot, on a full refresh) against each other (scale-16 lots: cancelled
    after 10 min; with hash joins, about a minute on the busy machine) -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='tender_id',
    on_schema_change='fail',
    fingerprint_salt=salt,
    pre_hook=[
        "alter table if exists {{ this }} add column if not exists input_fingerprint text",
        "set local enable_nestloop = off",
    ],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'tender', 'tender_id', unique=true) }}",
        "{{ lasting_index(this, 'project', 'project_code') }}",
        "{{ lasting_index(this, 'to_repair', 'tender_id', where=kept_lot_to_repair()) }}",
    ],
) }}

{%- set candidates = changed_keys_since_last_staged([(ref('stg_trading_centre__tenders'), 'tender_id')]) %}
{#- the candidates not in the table are the new lots (no alias on a ref: `dbt run --empty` renders
    it as an aliased subquery) -#}
{%- set nothing_gone -%}
select
    (select count(*) from {{ ref('stg_trading_centre__tenders') }})
    = (select count(*) from {{ this }})
    + (
        select count(*) from ({{ candidates }}) as candidate (key_value)
        where not exists (select from {{ this }} as kept where kept.tender_id = candidate.key_value)
    )
    and not exists (
        select from {{ this }} as kept
        where
            kept.project_code is not null
            and not exists (select from {{ ref('stg_approval__projects') }} where project_code = kept.project_code)
    )
{%- endset %}
{%- if candidates is not none and not run_query(nothing_gone).rows[0][0] %}
    {%- set candidates = none %}
{%- endif %}
{%- set candidates = none if candidates is none else candidates
    ~ ' union all select kept.tender_id from ' ~ this ~ ' as kept where ' ~ kept_lot_to_repair('kept.') %}

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
    {{ where_candidates(candidates) }}

),

projects as (

    select * from {{ ref('stg_approval__projects') }}

),

-- every lot that may have changed, as delivered; the keys derived by pattern (digits, name key,
-- well-formedness) are derived below for the lots that need them only
coded as (

    select
        tender_id,
        tender_name,
        tenderer_id,
        region_code,
        category,
        project_code_raw,
        project_code as project_code_normalised
    from tenders

),

-- every project; its name key only for the candidates of the lots judged (candidate_projects)
project_keys as (

    select
        project_code,
        project_name,
        owner_id,
        region_code,
        {{ code_digits('project_code') }} as code_digits
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

-- the lots to repair: a code that names no project
unlinked as (

    select
        coded.*,
        {{ code_digits('coded.project_code_normalised') }} as code_digits
    from coded
    left join direct_links
        on coded.tender_id = direct_links.tender_id
    where direct_links.tender_id is null
        and coded.project_code_raw is not null

),

-- a repair candidate as the scores read it (its name, not its name key: no pattern over every
-- project each night), grouped the two ways a lot finds its candidates: the groups of the lots to
-- repair only
owner_projects as (

    select * from project_keys
    where owner_id in (select unlinked.tenderer_id from unlinked)

),

digits_projects as (

    select * from project_keys
    where
        code_digits in (
            select unlinked.code_digits from unlinked
            where unlinked.code_digits <> ''
        )

),

owner_fingerprints as (

    {{ input_fingerprints('owner_projects', 'owner_id', ['project_code', 'owner_id', 'region_code', 'project_name']) }}

),

digits_fingerprints as (

    {{ input_fingerprints('digits_projects', 'code_digits', ['project_code', 'owner_id', 'region_code', 'project_name']) }}

),

-- a lot's inputs: its row (the columns read), the project its code names, and for a lot to
-- repair the fingerprints of its candidate groups
lot_inputs as (

    select
        tender_id,
        'tender' as input_kind,
        row(tender_name, tenderer_id, region_code, category, project_code_raw, project_code_normalised)::text
            as input_row
    from coded

    union all

    select
        tender_id,
        'direct' as input_kind,
        project_code as input_row
    from direct_links

    union all

    select
        unlinked.tender_id,
        'owner' as input_kind,
        owner_fingerprints.input_fingerprint as input_row
    from unlinked
    inner join owner_fingerprints
        on unlinked.tenderer_id = owner_fingerprints.owner_id

    union all

    select
        unlinked.tender_id,
        'digits' as input_kind,
        digits_fingerprints.input_fingerprint as input_row
    from unlinked
    inner join digits_fingerprints
        on unlinked.code_digits = digits_fingerprints.code_digits
    where unlinked.code_digits <> ''

),

fingerprints as (

    {{ input_fingerprints('lot_inputs', 'tender_id', ['input_kind', 'input_row'], salt=salt) }}

),

changed as (

    {{ changed_keys('fingerprints', 'tender_id', candidates) }}

),

-- the lots re-linked
changed_coded as (

    select
        coded.*,
        coalesce({{ is_valid_project_code('coded.project_code_normalised') }}, false) as is_well_formed
    from coded
    inner join changed
        on coded.tender_id = changed.tender_id

),

-- the lots to repair that are re-linked
changed_unlinked as (

    select
        unlinked.*,
        {{ name_key('unlinked.tender_name') }} as name_key
    from unlinked
    inner join changed
        on unlinked.tender_id = changed.tender_id

),

candidate_pairs as (

    select
        changed_unlinked.tender_id,
        project_keys.project_code
    from changed_unlinked
    inner join project_keys
        on changed_unlinked.tenderer_id = project_keys.owner_id
    union
    select
        changed_unlinked.tender_id,
        project_keys.project_code
    from changed_unlinked
    inner join project_keys
        on changed_unlinked.code_digits = project_keys.code_digits
    where changed_unlinked.code_digits <> ''

),

-- materialized: read once, it would be inlined and its name key computed again wherever the
-- similarity reads it, for every pair
candidate_projects as materialized (

    select
        project_code,
        owner_id,
        region_code,
        code_digits,
        {{ name_key('project_name') }} as name_key
    from project_keys
    where project_code in (select candidate_pairs.project_code from candidate_pairs)

),

-- materialized: inlined, its similarities were computed twice per pair (as columns and again
-- inside the score)
candidates as materialized (

    select
        changed_unlinked.tender_id,
        candidate_projects.project_code,
        coalesce(changed_unlinked.tenderer_id = candidate_projects.owner_id, false) as same_owner,
        coalesce(changed_unlinked.region_code = candidate_projects.region_code, false) as same_region,
        {{ bigram_dice('changed_unlinked.name_key', 'candidate_projects.name_key') }} as name_similarity,
        {{ digit_similarity('changed_unlinked.code_digits', 'candidate_projects.code_digits') }} as code_similarity
    from candidate_pairs
    inner join changed_unlinked
        on candidate_pairs.tender_id = changed_unlinked.tender_id
    inner join candidate_projects
        on candidate_pairs.project_code = candidate_projects.project_code

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

-- every changed lot (a tombstone, a lot gone from staging, has no row in coded and is dropped
-- by the strategy)
final as (

    select
        changed.tender_id,
        changed_coded.category,
        changed_coded.project_code_raw,
        changed_coded.project_code_normalised,
        changed_coded.is_well_formed as project_code_well_formed,
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
            when changed_coded.project_code_raw is null then 'no_code'
            when
                best_candidates.candidate_score >= {{ var('link_repair_min_score') }}
                and best_candidates.candidate_score - coalesce(best_candidates.runner_up_score, 0)
                >= {{ var('link_repair_margin') }}
                then null
            when best_candidates.tender_id is null and changed_coded.is_well_formed then 'code_not_found'
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
        round(best_candidates.code_similarity, 4) as best_candidate_code_similarity,
        changed.input_fingerprint
    from changed
    left join changed_coded
        on changed.tender_id = changed_coded.tender_id
    left join direct_links
        on changed.tender_id = direct_links.tender_id
    left join best_candidates
        on changed.tender_id = best_candidates.tender_id

)

select * from final
