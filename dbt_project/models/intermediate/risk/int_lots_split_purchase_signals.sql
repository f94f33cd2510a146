-- grain: one row per split candidate (a lot below the threshold in force for its category, not
-- put to the required tender): its pf_split_lots signal, or one placeholder row (rule_id null)
-- when it has none: its fingerprint must be kept somewhere, or the lot would be recomputed every
-- night. int_signals_procurement takes the signals (`where rule_id is not null`) as they are; the
-- rule is judged here, apart, because it alone of the pf_* flags reads other lots (its owner's
-- candidates within its window), which a night must find by owner.
-- Incremental by what changed (macros/changed_keys.sql): a candidate's fingerprint is
-- "context/lot": context, the md5 of seed mandatory_tender_thresholds (what every lot shares);
-- lot, the md5 of its candidate row (group keys, window) and of the fingerprints of its owner x
-- category x threshold row groups of each year its window reaches. A night compares only the
-- lots int_lots_summarised logged since this model's last build (macros/change_log.sql), the
-- candidates whose window reaches a group a logged lot's row places it in (a candidate or not:
-- one whose amount or method changed may have left the group), and the lots flagged with a
-- logged lot among their related lots (that lot may have left their group: another owner,
-- gone); every lot when a parent has no usable log or the context differs from the one the
-- table's fingerprints carry (every row carries the same). The keys it replaces are logged:
-- int_signals_procurement compares those lots.
-- (nested loops off, as the rule ran and was measured in int_signals_procurement before:
-- docs/scale-out.md)
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='tender_id',
    on_schema_change='fail',
    pre_hook=[
        "set local enable_nestloop = off",
        "create index if not exists int_lots_summarised_tenderer_idx on {{ ref('int_lots_summarised').schema }}.int_lots_summarised (tenderer_id)",
    ],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'tender', 'tender_id') }}",
        "{{ lasting_index(this, 'split', 'tender_id', where=\"rule_id = 'pf_split_lots'\") }}",
    ],
) }}

{#- What every candidate shares, as one md5 (a sum of 64-bit row hashes: no order). -#}
{%- set context_sql -%}
select md5((
    select count(*) || ':' || coalesce(sum(hashtextextended(
        row(category, valid_from, valid_to, threshold_yuan, tender_methods, window_days, same_year)::text, 0
    )), 0)
    from {{ ref('mandatory_tender_thresholds') }}
))
{%- endset %}

{%- set logged = changed_keys_since_last_build_in_context(['int_lots_summarised'], context_sql) %}
{%- set candidates = 'select candidate_keys.key_value from candidate_keys' if logged is not none else none %}

-- not materialized: read (on a night) by key and by owner; a table is cut to a night's keys by
-- `= any(array(...))` (an index scan), a CTE by `in (select ...)` (hashed)
with lots as not materialized (

    select * from {{ ref('int_lots_summarised') }}

),

thresholds as (

    select * from {{ ref('mandatory_tender_thresholds') }}

),

context as (

    {{ context_sql }} as fingerprint

),
{%- if logged is not none %}

-- a night: the lots int_lots_summarised logged since this model's last build
logged_keys as materialized (

    select unnest(array({{ logged }})) as key_value

),

-- the lots flagged with a logged lot among their related lots: that lot may have left their
-- group (a lot not flagged stays so when a lot leaves its group)
split_mates as materialized (

    select distinct kept.tender_id
    from {{ this }} as kept
    cross join lateral jsonb_array_elements(kept.evidence -> 'related_lots') as related (lot)
    where
        kept.rule_id = 'pf_split_lots'
        and related.lot ->> 'tender_id' in (select logged_keys.key_value from logged_keys)

),

-- their owners: the lots of the night's groups are theirs
owners as materialized (

    select distinct lots.tenderer_id
    from lots
    where
        lots.tender_id = any(array(
            select logged_keys.key_value from logged_keys
            union
            select split_mates.tender_id from split_mates
        ))
        and lots.tenderer_id is not null

),

-- the group (of a year) each logged lot's row places it in, candidate or not
logged_groups as (

    select distinct
        lots.tenderer_id,
        lots.category,
        thresholds.valid_from as threshold_valid_from,
        extract(year from lots.announced_on)::integer as group_year
    from lots
    inner join thresholds
        on lots.category = thresholds.category
        and lots.announced_on >= thresholds.valid_from
        and (thresholds.valid_to is null or lots.announced_on < thresholds.valid_to)
    where
        lots.tender_id = any(array(select logged_keys.key_value from logged_keys))
        and lots.tenderer_id is not null

),
{%- endif %}

-- the lots whose split groups are read: on a night, the owners' lots
group_lots as (

    select * from lots
    {%- if logged is not none %}
    where tenderer_id = any(array(select owners.tenderer_id from owners))
    {%- endif %}

),

-- split purchases (规避招标, 化整为零): lots of one purchaser (招标人) for the same kind of work
-- or goods, each below the amount that requires a public tender, none put to that tender,
-- announced within the window of the threshold's seed row (and in one year where the row
-- says so), together at or above it. The same kind: the same project (一项一码; 必须招标的工
-- 程项目规定第五条: what one project could tender together) or the same industry; a lot of an
-- unknown kind (industry 'other', no project code) only joins lots of its own project.
-- A lot's group of a year: its owner's candidates of that year under its category and threshold
-- row; its window reaches the years from group_year_from to group_year_to.
split_candidates as (

    select
        group_lots.tender_id,
        group_lots.tenderer_id,
        group_lots.category,
        group_lots.industry,
        {{ normalize_project_code('group_lots.project_code') }} as project_code,
        group_lots.procurement_method,
        group_lots.announced_on,
        coalesce(group_lots.control_price, group_lots.award_price) as amount,
        thresholds.threshold_yuan,
        thresholds.valid_from as threshold_valid_from,
        thresholds.window_days,
        thresholds.same_year,
        extract(year from group_lots.announced_on)::integer as group_year,
        extract(
            year from group_lots.announced_on - case when thresholds.same_year then 0 else thresholds.window_days end
        )::integer as group_year_from,
        extract(
            year from group_lots.announced_on + case when thresholds.same_year then 0 else thresholds.window_days end
        )::integer as group_year_to
    from group_lots
    inner join thresholds
        on group_lots.category = thresholds.category
        and group_lots.announced_on >= thresholds.valid_from
        and (thresholds.valid_to is null or group_lots.announced_on < thresholds.valid_to)
    where
        group_lots.tenderer_id is not null
        and coalesce(group_lots.control_price, group_lots.award_price) > 0
        and coalesce(group_lots.control_price, group_lots.award_price) < thresholds.threshold_yuan
        and group_lots.procurement_method is not null
        and not group_lots.procurement_method = any(string_to_array(thresholds.tender_methods, ';'))

),

-- the fingerprint of each group of a year (the columns the split rule reads of its lots)
group_fingerprints as (

    {{ input_fingerprints(
        'split_candidates',
        'tenderer_id, category, threshold_valid_from, group_year',
        ['tender_id', 'industry', 'project_code', 'procurement_method', 'announced_on', 'amount'],
    ) }}

),

-- the groups each candidate's window reaches, with their fingerprints: what its fingerprint
-- reads, and on a night how a changed group finds the candidates to compare
reached_groups as (

    select
        lot.tender_id,
        group_fps.tenderer_id,
        group_fps.category,
        group_fps.threshold_valid_from,
        group_fps.group_year,
        group_fps.input_fingerprint
    from split_candidates as lot
    inner join group_fingerprints as group_fps
        on lot.tenderer_id = group_fps.tenderer_id
        and lot.category = group_fps.category
        and lot.threshold_valid_from = group_fps.threshold_valid_from
        and group_fps.group_year between lot.group_year_from and lot.group_year_to

),
{%- if logged is not none %}

-- the lots a night compares: the logged lots, the flagged mates of those, and the candidates
-- whose window reaches a logged lot's group (their fingerprints read that group's)
candidate_keys as materialized (

    select logged_keys.key_value from logged_keys
    union
    select split_mates.tender_id from split_mates
    union
    select reached_groups.tender_id
    from reached_groups
    inner join logged_groups
        on reached_groups.tenderer_id = logged_groups.tenderer_id
        and reached_groups.category = logged_groups.category
        and reached_groups.threshold_valid_from = logged_groups.threshold_valid_from
        and reached_groups.group_year = logged_groups.group_year

),
{%- endif %}

-- a candidate's input rows: its own (the keys of its groups, its window) and the fingerprints
-- of the groups its window reaches (its own among them)
lot_inputs as (

    select
        tender_id,
        'lot' as input_kind,
        row(tenderer_id, category, threshold_valid_from, group_year_from, group_year_to)::text as input_row
    from split_candidates
    {%- if logged is not none %}
    where tender_id in (select candidate_keys.key_value from candidate_keys)
    {%- endif %}

    union all

    select
        tender_id,
        'group' as input_kind,
        row(group_year, input_fingerprint)::text as input_row
    from reached_groups
    {%- if logged is not none %}
    where tender_id in (select candidate_keys.key_value from candidate_keys)
    {%- endif %}

),

-- each fingerprint prefixed with the context
fingerprints as (

    {{ input_fingerprints(
        'lot_inputs', 'tender_id', ['input_kind', 'input_row'], context='select context.fingerprint from context'
    ) }}

),

changed as (

    {{ changed_keys('fingerprints', 'tender_id', candidates) }}

),

-- the changed candidates' split purchases, against every candidate of their owners
split_lots as (

    select
        a.tender_id,
        min(a.announced_on) as signal_date,
        array[min(a.tenderer_id)] as entity_ids,
        jsonb_build_object(
            'tenderer_id', min(a.tenderer_id),
            'amount', min(a.amount),
            'procurement_method', min(a.procurement_method),
            'related_lots', jsonb_agg(jsonb_build_object(
                'tender_id', b.tender_id, 'amount', b.amount, 'announced_on', b.announced_on,
                'procurement_method', b.procurement_method, 'project_code', b.project_code
            ) order by b.announced_on, b.tender_id),
            'total', min(a.amount) + sum(b.amount),
            'threshold', min(a.threshold_yuan),
            'threshold_valid_from', min(a.threshold_valid_from),
            'window_days', min(a.window_days)
        ) as evidence
    from split_candidates as a
    inner join split_candidates as b
        on a.tenderer_id = b.tenderer_id
        and a.category = b.category
        and a.threshold_valid_from = b.threshold_valid_from
        and a.tender_id <> b.tender_id
        and abs(a.announced_on - b.announced_on) <= a.window_days
        and (not a.same_year or extract(year from a.announced_on) = extract(year from b.announced_on))
        and (
            a.project_code = b.project_code
            or (a.industry = b.industry and a.industry <> 'other')
        )
    where a.tender_id in (select changed.tender_id from changed)
    group by a.tender_id
    having min(a.amount) + sum(b.amount) >= min(a.threshold_yuan)

),

signals as (

    {{ signals_union([
        {'rule_id': "'pf_split_lots'", 'from': 'split_lots'},
    ]) }}

),

-- every changed lot: its signal, or one placeholder row (a tombstone's is dropped)
final as (

    {{ signals_by_changed_lot('changed', 'signals') }}

)

select * from final
