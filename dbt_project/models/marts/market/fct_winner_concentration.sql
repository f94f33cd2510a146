-- grain: one row per award_year x category x prefecture_code

{# Market concentration of winners (中标集中度) by award amount: the largest winner's
   share, the five largest winners' share and the Herfindahl-Hirschman index
   (HHI = sum of squared percentage shares, 0..10000; above 2500 = highly concentrated
   in the usual antitrust reading). Awarded lots with a positive award price only.
   A market of one or two winners has an HHI of 10000 or 5000 by arithmetic, not by
   concentration: has_enough_awards marks the markets whose index means something. #}

{% set min_winners = 5 %}
{% set min_lots = 10 %}

with closed_loop as (

    select * from {{ ref('fct_closed_loop') }}

),

regions as (

    select * from {{ ref('regions') }}

),

winner_totals as (

    select
        extract(year from award_date)::integer as award_year,
        category,
        prefecture_code,
        winner_id,
        count(*) as lots_won,
        sum(award_price) as amount_won
    from closed_loop
    where award_date is not null
        and winner_id is not null
        and award_price > 0
    group by extract(year from award_date)::integer, category, prefecture_code, winner_id

),

shares as (

    select
        *,
        amount_won / sum(amount_won) over (partition by award_year, category, prefecture_code) as amount_share,
        row_number() over (
            partition by award_year, category, prefecture_code
            order by amount_won desc, winner_id asc
        ) as winner_rank
    from winner_totals

),

final as (

    select
        shares.award_year,
        shares.category,
        shares.prefecture_code,
        regions.name_zh as prefecture_name,
        sum(shares.lots_won) as lots_awarded,
        sum(shares.amount_won) as award_amount_total,
        count(*) as winner_count,
        min(shares.winner_id) filter (where shares.winner_rank = 1) as top1_winner_id,
        round(max(shares.amount_share) filter (where shares.winner_rank = 1), 6) as top1_share,
        round(sum(shares.amount_share) filter (where shares.winner_rank <= 5), 6) as top5_share,
        round(sum(power(shares.amount_share * 100, 2)), 1) as hhi,
        (count(*) >= {{ min_winners }} or sum(shares.lots_won) >= {{ min_lots }}) as has_enough_awards
    from shares
    left join regions
        on shares.prefecture_code = regions.region_code
    group by shares.award_year, shares.category, shares.prefecture_code, regions.name_zh

)

select * from final
