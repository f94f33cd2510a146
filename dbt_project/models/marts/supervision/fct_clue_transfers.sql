-- grain: one row per clue x receiving body (移送: 纪检监察, 公安, 检察, 法院)
-- Each transfer with the receiving body's receipt (回执) and outcome (办理结果): who did
-- each step and when, and how many working days the receipt and the outcome took.
{{ config(materialized='view') }}

with transfers as (

    select * from {{ source('supervision', 'clue_transfers') }}

),

clues as (

    select * from {{ source('supervision', 'clues') }}

),

final as (

    select
        transfers.clue_id,
        clues.title,
        clues.tender_id,
        transfers.target,
        case transfers.target
            when 'discipline_inspection' then '纪检监察机关'
            when 'police' then '公安机关'
            when 'procuratorate' then '检察机关'
            when 'court' then '人民法院'
        end as target_zh,
        transfers.reference_no,
        transfers.transferred_at,
        transfers.transferred_by,
        transfers.receipt_at,
        transfers.receipt_by,
        transfers.receipt_no,
        transfers.outcome,
        transfers.outcome_at,
        transfers.outcome_by,
        case
            when transfers.outcome_at is not null then '已反馈结果'
            when transfers.receipt_at is not null then '已签收'
            else '待签收'
        end as transfer_status_zh,
        {{ workdays_between(local_date('transfers.transferred_at'), local_date('transfers.receipt_at')) }}
            as workdays_to_receipt,
        {{ workdays_between(local_date('transfers.transferred_at'), local_date('transfers.outcome_at')) }}
            as workdays_to_outcome
    from transfers
    inner join clues on transfers.clue_id = clues.clue_id

)

select * from final
