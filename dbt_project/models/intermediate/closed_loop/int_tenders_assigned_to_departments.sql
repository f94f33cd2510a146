-- grain: one row per tender_id
-- Incremental by what changed (macros/rows_changed.sql), the fingerprint being the row itself: a
-- lot's row reads its tender row and the two seeds. A night computes the rows of the lots whose
-- tender rows were stamped since the last build (macro changed_keys_since_last_staged,
-- macros/change_log.sql: every lot after a re-delivered day) and writes only those that differ
-- from the kept ones; a change of a seed (the context every fingerprint starts with) computes
-- every lot. Computing every lot's row to compare them took 4.8 s of a scale-16 night (issue
-- #18); rewritten whole, 12.3 s.
{#- pre_hook: a table built before the model was incremental gains the column (null), so its
    first incremental run rewrites every lot, as a full refresh would (no deploy step); nested
    loops off: when every lot is computed, each fingerprint is compared with the kept one by hash -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='tender_id',
    on_schema_change='fail',
    pre_hook=[
        "alter table if exists {{ this }} add column if not exists input_fingerprint text",
        "set local enable_nestloop = off",
    ],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'tender', 'tender_id', unique=true) }}",
    ],
) }}

{#- What every lot's row shares: the two seeds, as one md5 (sums of 64-bit row hashes). -#}
{%- set context_sql -%}
select md5((
    select count(*) || ':' || coalesce(sum(hashtextextended(row(category, industry, department_kind, legal_basis)::text, 0)), 0)
    from {{ ref('responsibility_list') }}
) || '/' || (
    select count(*) || ':' || coalesce(sum(hashtextextended(row(code, region_code, kind)::text, 0)), 0)
    from {{ ref('departments') }}
))
{%- endset %}

{%- set candidates = changed_keys_since_last_staged([(ref('stg_trading_centre__tenders'), 'tender_id')]) %}
{%- set candidates = none if candidates is not none and changed_context(context_sql) else candidates %}

{# Who is answerable for a lot: the supervising department from the responsibility list
    (监管权力和责任清单, category x industry -> kind) in the lot's prefecture, and the
    trading centre of that prefecture. Prefecture = first four digits of region_code + '00'.
    Regions without such a department (e.g. codes outside Yunnan) fall back to the
    provincial department. #}

with tenders as (

    select * from {{ ref('stg_trading_centre__tenders') }}
    {{ where_candidates(candidates) }}

),

context as (

    {{ context_sql }} as fingerprint

),

responsibility_list as (

    select * from {{ ref('responsibility_list') }}

),

departments as (

    select * from {{ ref('departments') }}

),

-- the province's trading centre, for the lots of a prefecture without one: found once (joined to
-- every lot without a key, it was a nested loop over the departments, 3 of the 4 s at scale 16)
provincial_centre as (

    select code
    from departments
    where region_code = '530000' and kind = 'trading-centre'

),

located as (

    select
        tender_id,
        category,
        coalesce(industry, 'other') as industry,
        region_code,
        left(region_code, 4) || '00' as prefecture_code
    from tenders

),

assigned as (

    select
        located.tender_id,
        located.region_code,
        located.prefecture_code,
        responsibility_list.department_kind as supervising_department_kind,
        coalesce(local_supervisor.code, provincial_supervisor.code) as supervising_department_code,
        coalesce(local_centre.code, (select provincial_centre.code from provincial_centre)) as trading_centre_code,
        responsibility_list.legal_basis as supervision_legal_basis
    from located
    left join responsibility_list
        on located.category = responsibility_list.category
        and located.industry = responsibility_list.industry
    left join departments as local_supervisor
        on located.prefecture_code = local_supervisor.region_code
        and responsibility_list.department_kind = local_supervisor.kind
    left join departments as provincial_supervisor
        on provincial_supervisor.region_code = '530000'
        and responsibility_list.department_kind = provincial_supervisor.kind
    left join departments as local_centre
        on located.prefecture_code = local_centre.region_code
        and local_centre.kind = 'trading-centre'

),

-- the rows that differ from the kept ones, and the tombstones of the lots gone (the row is the
-- fingerprint: macros/rows_changed.sql)
final as (

    {{ rows_changed(
        'assigned', ref('stg_trading_centre__tenders'), 'tender_id', candidates,
        context='select context.fingerprint from context'
    ) }}

)

-- (the columns of `rows`, with the fingerprint: the linter cannot count them through the macro)
select * from final  -- noqa: AM04
