-- grain: one row per tender_id that has at least one milestone (its own or its project's)

{# Milestones come from the approval platform, keyed by project code and, when the
    owner reported per lot, by tender_id. A lot takes its own milestone of each kind;
    where it has none, the project-level one (tender_id empty) of the project it is
    linked to (int_tenders_linked_to_projects). #}

with milestones as (

    select * from {{ ref('stg_approval__milestones') }}

),

links as (

    select * from {{ ref('int_tenders_linked_to_projects') }}

),

lot_level as (

    select
        tender_id,
        milestone,
        min(occurred_on) as occurred_on,
        sum(amount) filter (where milestone = 'final_settlement') as amount
    from milestones
    where tender_id is not null
    group by tender_id, milestone

),

project_level as (

    select
        links.tender_id,
        milestones.milestone,
        min(milestones.occurred_on) as occurred_on,
        sum(milestones.amount) filter (where milestones.milestone = 'final_settlement') as amount
    from milestones
    inner join links
        on milestones.project_code = links.project_code
    where milestones.tender_id is null
    group by links.tender_id, milestones.milestone

),

combined as (

    select
        coalesce(lot_level.tender_id, project_level.tender_id) as tender_id,
        coalesce(lot_level.milestone, project_level.milestone) as milestone,
        coalesce(lot_level.occurred_on, project_level.occurred_on) as occurred_on,
        case when lot_level.tender_id is not null then lot_level.amount else project_level.amount end as amount,
        lot_level.tender_id is null as from_project_level
    from lot_level
    full outer join project_level
        on lot_level.tender_id = project_level.tender_id
        and lot_level.milestone = project_level.milestone

),

final as (

    select
        tender_id,
        min(occurred_on) filter (where milestone = 'construction_start') as construction_start_on,
        min(occurred_on) filter (where milestone = 'completion') as completion_on,
        min(occurred_on) filter (where milestone = 'acceptance') as acceptance_on,
        min(occurred_on) filter (where milestone = 'final_settlement') as final_settlement_on,
        sum(amount) filter (where milestone = 'final_settlement') as final_settlement_amount,
        coalesce(bool_or(from_project_level) filter (where milestone = 'construction_start'), false)
            as construction_start_is_project_level,
        coalesce(bool_or(from_project_level) filter (where milestone = 'final_settlement'), false)
            as final_settlement_is_project_level,
        bool_or(from_project_level) as uses_project_level_milestones
    from combined
    group by tender_id

)

select * from final
