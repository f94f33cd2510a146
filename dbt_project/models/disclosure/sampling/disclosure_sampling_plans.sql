-- grain: one row per seed commitment (plan x period), drawn or not yet
-- Public record of each period's draw (抽查计划): the seed's sha256 published before the
-- draw, the seed revealed by it, and the hashes and algorithm that let anyone re-derive
-- the list (`ggzy verify DRAW_ID`, or the published recipe).
with commitments as (

    select * from {{ source('sampling', 'seed_commitments') }}

),

draws as (

    select * from {{ source('sampling', 'draws') }}

),

sampling_plan as (

    select * from {{ ref('sampling_plan') }}

),

final as (

    select
        c.plan_id,
        p.matter,
        c.period,
        c.seed_sha256,
        c.committed_at as seed_committed_at,
        d.draw_id,
        d.created_at as drawn_at,
        d.seed,
        d.algorithm_version,
        d.inputs_hash,
        d.as_of_date as directory_as_of_date,
        d.population,
        d.selected,
        d.result_hash
    from commitments as c
    left join draws as d on c.plan_id = d.plan_id and c.period = d.period
    left join sampling_plan as p on c.plan_id = p.plan_id

)

select * from final
