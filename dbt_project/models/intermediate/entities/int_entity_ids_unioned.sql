-- grain: one row per entity_id (every company id seen in any feed)

{# The universe of market entities: the trading centre's register is incomplete (bidders
   from other provinces, owners known only to the approval platform, companies known only
   to Credit China or tax), so dim_entity covers every USCC any feed mentions, and the
   other marts can hold a relationship to it.
   Each feed's ids are made distinct before the union (a hash per feed, the bids' 2.2 M rows
   to their bidders): sorting the 3.6 M mentions for string_agg(distinct) spilled to disk
   (scale 16: 15 s). #}

with entities as (

    select entity_id from {{ ref('stg_trading_centre__entities') }}

),

tenders as (

    select distinct
        tenderer_id,
        agency_id
    from {{ ref('stg_trading_centre__tenders') }}

),

bids as (

    select distinct bidder_id from {{ ref('stg_trading_centre__bids') }}

),

awards as (

    select distinct winner_id from {{ ref('stg_trading_centre__awards') }}

),

contracts as (

    select distinct winner_id from {{ ref('stg_trading_centre__contracts') }}

),

projects as (

    select distinct owner_id from {{ ref('stg_approval__projects') }}

),

credit_records as (

    select distinct entity_id from {{ ref('stg_credit_china__records') }}

),

taxpayers as (

    select entity_id from {{ ref('stg_tax__taxpayers') }}

),

mentions as (

    select
        entity_id,
        'entities' as seen_in
    from entities
    union all
    select
        tenderer_id as entity_id,
        'tenders' as seen_in
    from tenders
    union all
    select
        agency_id as entity_id,
        'tenders' as seen_in
    from tenders
    union all
    select
        bidder_id as entity_id,
        'bids' as seen_in
    from bids
    union all
    select
        winner_id as entity_id,
        'awards' as seen_in
    from awards
    union all
    select
        winner_id as entity_id,
        'contracts' as seen_in
    from contracts
    union all
    select
        owner_id as entity_id,
        'projects' as seen_in
    from projects
    union all
    select
        entity_id,
        'credit_china' as seen_in
    from credit_records
    union all
    select
        entity_id,
        'tax' as seen_in
    from taxpayers

),

final as (

    select
        entity_id,
        string_agg(distinct seen_in, ';' order by seen_in) as seen_in
    from mentions
    where entity_id is not null
    group by entity_id

)

select * from final
