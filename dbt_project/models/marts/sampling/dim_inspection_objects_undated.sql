-- grain: one row per inspection object (object_id: a lot's tender_id or an entity's USCC; the two
-- never share a value, 20 and 18 characters: the unique test on object_id holds them apart)
-- The rows of dim_inspection_objects without as_of_date (that view adds it), so that a row
-- changes only when the object's own evidence does, and what a night needs to count an entity's
-- main line without reading its every lot: each lot's participations (participant_ids: its
-- tenderer, its agency, each bid's bidder, as the main line counts them) and each entity's
-- counts per (category, industry) (line_counts). See dim_inspection_objects for the columns.
-- Incremental by what changed, the fingerprint being the row itself (macros/rows_changed.sql),
-- as fct_tender_risk_undated: every row read the whole history each night (10.0 s of the
-- scale-16 night, on its critical path, issue #18). A night computes the rows of the candidates:
-- - the lots whose tender or award rows were stamped since this model's last build, those whose
--   bids int_bids_joined_to_lots replaced since (their participations may have changed), and
--   those whose risk fct_tender_risk_undated replaced since (macros/change_log.sql);
-- - the entities whose rows were stamped since, those the first two kinds of lots count now or
--   counted in their kept rows (their line counts move by the difference), and the entities
--   whose credit (computed whole each night: it moves with as_of_date) or risk (fct_entity_risk
--   is rebuilt whole each night) no longer gives the kept row's, with the lots they tender or
--   won (a lot takes the worse of its tenderer's and winner's credit).
-- An entity's counts are its kept ones moved by those differences; counted from its every lot
-- when it has no kept row. Every object, every count from the lots, after a re-delivered day of
-- the trading centre, a parent rebuilt whole, a change of this model's code or of the
-- responsibility list (the context of every fingerprint).
{#- the staging indexes by which a night finds an entity's lots (by the lot key, staging has
    its own); the entities' kept credit and risk, which a night compares for every entity, in an
    index of their own (the lots' rows are most of the table's pages); nested loops off: a
    night's candidates, read by index, are joined by hash (their number is not known when the
    plan is made: a nested loop compared each with every other) -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='object_id',
    on_schema_change='fail',
    pre_hook=[
        "set local enable_nestloop = off",
        "create index if not exists stg_trading_centre__tenders_tenderer_idx on {{ ref('stg_trading_centre__tenders').schema }}.stg_trading_centre__tenders (tenderer_id)",
        "create index if not exists stg_trading_centre__tenders_agency_idx on {{ ref('stg_trading_centre__tenders').schema }}.stg_trading_centre__tenders (agency_id)",
        "create index if not exists stg_trading_centre__awards_winner_idx on {{ ref('stg_trading_centre__awards').schema }}.stg_trading_centre__awards (winner_id)",
        "create index if not exists stg_trading_centre__bids_bidder_idx on {{ ref('stg_trading_centre__bids').schema }}.stg_trading_centre__bids (bidder_id)",
    ],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'object', 'object_id', unique=true) }}",
        "{{ lasting_index(
            this, 'entity', 'object_id', include='risk_score, risk_level, credit_level, credit_basis',
            where=\"object_type != 'tender'\",
        ) }}",
    ],
) }}

{#- A ref() read under an alias is wrapped, `(select * from ref) as alias`: `dbt run --empty` (the
    unit tests' build) renders a ref as an aliased subquery of its own. -#}
{#- What every row shares: the responsibility list, by which each object's department is found. -#}
{%- set context_sql -%}
select md5((
    select string_agg(responsibility::text, '/' order by responsibility::text)
    from (select * from {{ ref('responsibility_list') }}) as responsibility
))
{%- endset %}
{%- set staged = changed_keys_since_last_staged([
    (ref('stg_trading_centre__tenders'), 'tender_id'), (ref('stg_trading_centre__awards'), 'tender_id'),
    (ref('stg_trading_centre__entities'), 'entity_id'),
], parents=['int_bids_joined_to_lots']) %}
{%- set risk_logged = changed_keys_since_last_build(['fct_tender_risk_undated']) %}
{%- set night = staged is not none and risk_logged is not none and not changed_context(context_sql) %}
{%- set candidate_lots = 'select tender_id from candidate_lots' if night else none %}
{%- set candidate_entities = 'select entity_id from candidate_entities' if night else none %}
{%- set candidates = 'select object_id from candidate_objects' if night else none %}
-- depends_on: {{ ref('int_bids_joined_to_lots') }}

-- The inputs name the columns they give: a CTE read twice is materialised whole (#18). A table
-- is read for the candidates by `= any(array)` (its index), a CTE by `in` (hashed: with an
-- array, each of its rows was compared with every candidate).
with credit_records as (

    select
        entity_id,
        list_type,
        effective_from,
        effective_until,
        revoked_on
    from {{ ref('stg_credit_china__records') }}

),

taxpayers as (

    select
        entity_id,
        credit_rating,
        taxpayer_status
    from {{ ref('stg_tax__taxpayers') }}

),

entity_risk as (

    select
        entity_id,
        risk_score,
        risk_level
    from {{ ref('fct_entity_risk') }}

),

responsibility_list as (

    select * from {{ ref('responsibility_list') }}

),

as_of as (

    select {{ as_of_date() }} as as_of_date

),

-- credit, of every entity (it moves with as_of_date) ---------------------------------
credit_in_force as (

    select
        r.entity_id,
        bool_or(r.list_type = 'serious_dishonest') as has_serious_dishonest,
        bool_or(r.list_type in ('administrative_penalty', 'abnormal_operation')) as has_other_negative,
        bool_or(r.list_type = 'red_list') as has_red_list
    from credit_records as r
    cross join as_of
    where
        r.effective_from <= as_of.as_of_date
        and (r.effective_until is null or r.effective_until >= as_of.as_of_date)
        and (r.revoked_on is null or r.revoked_on > as_of.as_of_date)
    group by r.entity_id

),

entity_credit as materialized (

    select
        e.entity_id,
        case
            when coalesce(c.has_serious_dishonest, false) or t.credit_rating = 'D' then 'D'
            when
                coalesce(c.has_other_negative, false)
                or t.credit_rating = 'C'
                or t.taxpayer_status = 'abnormal'
                then 'C'
            when t.credit_rating = 'A' or coalesce(c.has_red_list, false) then 'A'
            else 'B'
        end as credit_level,
        concat_ws(
            ';',
            case when c.has_serious_dishonest then 'serious_dishonest' end,
            case when c.has_other_negative then 'penalty_or_abnormal_operation' end,
            case when c.has_red_list then 'red_list' end,
            case when t.credit_rating is not null then 'tax_' || t.credit_rating end,
            case when t.taxpayer_status = 'abnormal' then 'tax_abnormal' end
        ) as credit_basis
    from (select * from {{ ref('stg_trading_centre__entities') }}) as e
    left join credit_in_force as c on e.entity_id = c.entity_id
    left join taxpayers as t on e.entity_id = t.entity_id

),
{%- if night %}

-- the candidates ---------------------------------------------------------------------
-- the objects whose staging rows were stamped since this model's last build, and the lots whose
-- bids int_bids_joined_to_lots replaced since
staged_objects as materialized (

    {{ staged }}

),

-- every entity's kept credit and risk (from their index)
kept_entities as materialized (

    select
        object_id as entity_id,
        risk_score,
        risk_level,
        credit_level,
        credit_basis
    from {{ this }}
    where object_type != 'tender'

),

-- the entities whose credit or risk now differs from their kept row's (or that have no kept row
-- or no longer a current one: their lots' credit changes too)
entity_comparison as (

    select
        coalesce(kept.entity_id, entity_credit.entity_id) as entity_id,
        (
            kept.entity_id is null
            or entity_credit.entity_id is null
            or coalesce(entity_credit.credit_level, 'B') is distinct from kept.credit_level
            or nullif(entity_credit.credit_basis, '') is distinct from kept.credit_basis
        ) as credit_changed,
        (
            coalesce(entity_risk.risk_score, 0) is distinct from kept.risk_score
            or coalesce(entity_risk.risk_level, 'none') is distinct from kept.risk_level
        ) as risk_changed
    from kept_entities as kept
    full join entity_credit on kept.entity_id = entity_credit.entity_id
    left join entity_risk on kept.entity_id = entity_risk.entity_id

),

entity_changes as materialized (

    select
        entity_id,
        credit_changed
    from entity_comparison
    where credit_changed or risk_changed

),

credit_changes as (

    select entity_id
    from entity_changes
    where credit_changed

),

-- the lots whose participations may have changed
participation_lots as materialized (

    select stg_trading_centre__tenders.tender_id
    from {{ ref('stg_trading_centre__tenders') }}
    where stg_trading_centre__tenders.tender_id = any(array(select staged_objects.key_value from staged_objects))

),

candidate_lots as materialized (

    select participation_lots.tender_id from participation_lots

    union

    {{ risk_logged }}

    union

    select stg_trading_centre__tenders.tender_id
    from {{ ref('stg_trading_centre__tenders') }}
    where stg_trading_centre__tenders.tenderer_id = any(array(select credit_changes.entity_id from credit_changes))

    union

    select stg_trading_centre__awards.tender_id
    from {{ ref('stg_trading_centre__awards') }}
    where stg_trading_centre__awards.winner_id = any(array(select credit_changes.entity_id from credit_changes))

),
{%- endif %}

-- the lots' inputs (on a night, the candidate lots', read by index) -------------------
tenders as (

    select
        tender_id,
        tender_name,
        category,
        industry,
        region_code,
        tenderer_id,
        agency_id
    from {{ ref('stg_trading_centre__tenders') }}
    {{ where_candidates(candidate_lots) }}

),

awards as (

    select
        tender_id,
        winner_id
    from {{ ref('stg_trading_centre__awards') }}
    {{ where_candidates(candidate_lots) }}

),

tender_risk as (

    select
        tender_id,
        risk_score,
        risk_level
    from {{ ref('fct_tender_risk_undated') }}
    {{ where_candidates(candidate_lots) }}

),

-- where an entity trades, as its main line counts it: (category, industry) of each lot it tenders,
-- is the agency of or bids for (every bid)
participations as (

    select
        tender_id,
        category,
        coalesce(industry, 'other') as industry,
        tenderer_id as entity_id
    from tenders
    union all
    select
        tender_id,
        category,
        coalesce(industry, 'other') as industry,
        agency_id
    from tenders
    union all
    select
        t.tender_id,
        t.category,
        coalesce(t.industry, 'other') as industry,
        b.bidder_id
    from (select * from {{ ref('stg_trading_centre__bids') }}) as b
    inner join tenders as t on b.tender_id = t.tender_id
    {%- if candidate_lots is not none %}
    where b.tender_id = any({{ candidates_array(candidate_lots) }})
    {%- endif %}

),

-- each lot's participations: one element per tenderer, agency and bid (sorted)
lot_participants as (

    select
        tender_id,
        array_agg(entity_id order by entity_id) as participant_ids
    from participations
    where entity_id is not null
    group by tender_id

),
{%- if night %}

-- the participations of the lots that may have changed them, as their kept rows counted them
-- (-1 each) and as they count now (+1 each)
participation_changes as materialized (

    select
        kept.category,
        kept.industry,
        -1 as n,
        unnest(kept.participant_ids) as entity_id
    from {{ this }} as kept
    where kept.object_id = any(array(select participation_lots.tender_id from participation_lots))

    union all

    select
        participations.category,
        participations.industry,
        1 as n,
        participations.entity_id
    from participations
    where
        participations.entity_id is not null
        and participations.tender_id in (select participation_lots.tender_id from participation_lots)

),

candidate_entities as materialized (

    select staged_objects.key_value as entity_id from staged_objects
    union
    select entity_changes.entity_id from entity_changes
    union
    select participation_changes.entity_id from participation_changes

),

candidate_objects as (

    select candidate_lots.tender_id as object_id from candidate_lots
    union all
    select candidate_entities.entity_id from candidate_entities

),
{%- endif %}

-- the entities' inputs (on a night, the candidate entities', read by index) -------------
entities as (

    select
        entity_id,
        entity_name,
        entity_role,
        region_code
    from {{ ref('stg_trading_centre__entities') }}
    {{ where_candidates(candidate_entities, 'entity_id') }}

),

-- an entity's lots, counted from every lot (on a night, only for an entity without a kept row);
-- not materialized: each reader finds the entities' lots by its own index
entity_lots as not materialized (

    select
        tender_id,
        category,
        coalesce(industry, 'other') as industry,
        tenderer_id,
        agency_id
    from {{ ref('stg_trading_centre__tenders') }}

),

{%- if night %}

counted_entities as (

    select entities.entity_id
    from entities
    where entities.entity_id not in (select kept_entities.entity_id from kept_entities)

),
{%- endif %}

entity_participations as (

    select
        category,
        industry,
        1 as n,
        tenderer_id as entity_id
    from entity_lots
    {%- if night %}
    where tenderer_id = any(array(select counted_entities.entity_id from counted_entities))
    {%- endif %}
    union all
    select
        category,
        industry,
        1 as n,
        agency_id
    from entity_lots
    {%- if night %}
    where agency_id = any(array(select counted_entities.entity_id from counted_entities))
    {%- endif %}
    union all
    select
        t.category,
        t.industry,
        1 as n,
        b.bidder_id
    from (select * from {{ ref('stg_trading_centre__bids') }}) as b
    inner join entity_lots as t on b.tender_id = t.tender_id
    {%- if night %}
    where
        b.bidder_id = any(array(select counted_entities.entity_id from counted_entities))
        -- their lots by key (not every lot hashed)
        and t.tender_id = any(array(
            select counted_bids.tender_id
            from (select * from {{ ref('stg_trading_centre__bids') }}) as counted_bids
            where counted_bids.bidder_id = any(array(select counted_entities.entity_id from counted_entities))
        ))
    {%- endif %}
    {%- if night %}

    union all

    -- an entity with a kept row: its kept counts, moved by the night's changes
    select
        kept_lines.category,
        kept_lines.industry,
        kept_lines.n,
        kept.object_id
    from {{ this }} as kept
    cross join lateral jsonb_to_recordset(kept.line_counts) as kept_lines (category text, industry text, n bigint)
    where kept.object_id = any(array(select entities.entity_id from entities)) and kept.object_type != 'tender'

    union all

    select
        participation_changes.category,
        participation_changes.industry,
        participation_changes.n,
        participation_changes.entity_id
    from participation_changes
    where participation_changes.entity_id in (select kept_entities.entity_id from kept_entities)
    {%- endif %}

),

-- each entity's participations per (category, industry), and its main line: the most counted
entity_lines as (

    select
        entity_id,
        category,
        industry,
        sum(n) as n_lots
    from entity_participations
    group by entity_id, category, industry
    having sum(n) > 0

),

entity_main_line as (

    select distinct on (entity_id)
        entity_id,
        category,
        industry
    from entity_lines
    order by entity_id asc, n_lots desc, category asc, industry asc

),

entity_line_counts as (

    select
        entity_id,
        jsonb_agg(
            jsonb_build_object('category', category, 'industry', industry, 'n', n_lots)
            order by category, industry
        ) as line_counts
    from entity_lines
    group by entity_id

),

-- objects ---------------------------------------------------------------------------
tender_objects as (

    select
        'tender' as object_type,
        t.tender_id as object_id,
        t.tender_name as object_name,
        null::text as entity_role,
        t.category,
        coalesce(t.industry, 'other') as industry,
        t.region_code,
        concat_ws(';', t.tenderer_id, t.agency_id, a.winner_id) as related_entity_ids,
        tr.risk_score,
        tr.risk_level,
        -- a lot is as trustworthy as the worst of its tenderer and winner
        coalesce(greatest(ct.credit_level, cw.credit_level), 'B') as credit_level,
        concat_ws(
            ' | ',
            'tenderer:' || nullif(ct.credit_basis, ''),
            'winner:' || nullif(cw.credit_basis, '')
        ) as credit_basis,
        lp.participant_ids,
        null::jsonb as line_counts
    from tenders as t
    left join awards as a on t.tender_id = a.tender_id
    left join tender_risk as tr on t.tender_id = tr.tender_id
    left join entity_credit as ct on t.tenderer_id = ct.entity_id
    left join entity_credit as cw on a.winner_id = cw.entity_id
    left join lot_participants as lp on t.tender_id = lp.tender_id

),

entity_objects as (

    select
        case when e.entity_role = 'agency' then 'agency' else 'entity' end as object_type,
        e.entity_id as object_id,
        e.entity_name as object_name,
        e.entity_role,
        coalesce(m.category, 'other') as category,
        coalesce(m.industry, 'other') as industry,
        e.region_code,
        e.entity_id as related_entity_ids,
        er.risk_score,
        er.risk_level,
        coalesce(c.credit_level, 'B') as credit_level,
        c.credit_basis,
        null::text[] as participant_ids,
        lc.line_counts
    from entities as e
    left join entity_main_line as m on e.entity_id = m.entity_id
    left join entity_line_counts as lc on e.entity_id = lc.entity_id
    left join entity_risk as er on e.entity_id = er.entity_id
    left join entity_credit as c on e.entity_id = c.entity_id

),

objects as (

    select * from tender_objects
    union all
    select * from entity_objects

),

computed as (

    select
        o.object_type,
        o.object_id,
        o.object_name,
        o.entity_role,
        o.category,
        o.industry,
        o.region_code,
        case
            when o.region_code ~ '^53[0-9]{4}$' then left(o.region_code, 4) || '00'
            else '530000'
        end as prefecture_code,
        coalesce(r.department_kind, 'development-reform') as responsible_department_kind,
        o.related_entity_ids,
        coalesce(o.risk_score, 0) as risk_score,
        coalesce(o.risk_level, 'none') as risk_level,
        case o.object_type when 'tender' then 'fct_tender_risk' else 'fct_entity_risk' end as risk_source,
        o.credit_level,
        nullif(o.credit_basis, '') as credit_basis,
        o.participant_ids,
        o.line_counts
    from objects as o
    left join responsibility_list as r
        on o.category = r.category and o.industry = r.industry

),

-- the rows that differ from the kept ones, and a tombstone for each candidate gone
final as (

    {{ rows_changed(
        'computed',
        '(select tender_id as object_id from ' ~ ref('stg_trading_centre__tenders')
        ~ ' union all select entity_id from ' ~ ref('stg_trading_centre__entities') ~ ') as current_objects',
        'object_id', candidates, context=context_sql,
    ) }}

)

-- (the columns of `computed`, with the fingerprint: the linter cannot count them through the macro)
select * from final  -- noqa: AM04
