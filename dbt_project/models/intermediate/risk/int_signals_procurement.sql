-- grain: one row per rule x tender (lot), for the procurement red flags (pf_*), and one
-- placeholder row (rule_id null) for a lot with none: its fingerprint must be kept somewhere, or
-- the lot would be recomputed every night. Readers take `where rule_id is not null`.
-- Incremental by what changed (macros/changed_keys.sql): a lot's flags depend on its own row of
-- int_lots_summarised, its latest bids, the minimum periods, the thresholds and the workday
-- calendar, and (pf_split_lots) on the other lots of its owner under the same threshold row
-- within its window. A lot's fingerprint is "context/lot": context, the md5 of what every lot
-- shares (int_bid_period_minimums, seed mandatory_tender_thresholds, the calendar's days that are
-- not the Monday-Friday rule and its first day, the lots dated past its end); lot, the md5 of its
-- row and latest bids (the columns read), var award_near_control_pct and, for a split candidate,
-- the fingerprints of its owner x category x threshold row groups of each year its window
-- reaches. A night compares only the lots int_lots_summarised or int_bids_joined_to_lots logged
-- since this model's last build (macros/change_log.sql), the split candidates whose window
-- reaches a logged lot's group, and the lots flagged pf_split_lots with a logged lot among their
-- related lots (a lot that left a group lowers only its flagged mates' totals); every lot when a
-- parent has no usable log or the context differs from the one the table's fingerprints carry
-- (every row carries the same: a new context replaces every lot).
-- (nested loops off: the planner underestimates the self-joins of bids within a lot and would
-- take minutes on a province-year of bids)
{%- set salt = "'" ~ var('award_near_control_pct') ~ "'" %}
{#- pre_hook: a table built before the model was incremental gains the column (null), so its
    first incremental run recomputes every lot, as a full refresh would (no deploy step); the lots
    are looked up by owner (a night's groups) and by their last date (the lots past the
    calendar's end) on int_lots_summarised, which keeps its table between nights (as
    int_bids_joined_to_lots indexes the staging bids it reads by lot) -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='tender_id',
    on_schema_change='fail',
    fingerprint_salt=salt,
    pre_hook=[
        "alter table if exists {{ this }} add column if not exists input_fingerprint text",
        "set local enable_nestloop = off",
        "create index if not exists int_lots_summarised_tenderer_idx on {{ ref('int_lots_summarised').schema }}.int_lots_summarised (tenderer_id)",
        "create index if not exists int_lots_summarised_last_date_idx on {{ ref('int_lots_summarised').schema }}.int_lots_summarised (greatest(announced_on, deadline_on))",
    ],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'tender', 'tender_id') }}",
        "{{ lasting_index(this, 'split', 'tender_id', where=\"rule_id = 'pf_split_lots'\") }}",
    ],
) }}

{#- What every lot's flags share, as one md5 (sums of 64-bit row hashes: no order). The calendar
    counts working days by workday_seq, whose differences follow from the days that break the
    Monday-Friday rule; a period is null when a date lies outside the calendar, which grows by a
    day each night at its end: the lots past it are in the context, so that the night the
    calendar reaches one of them every lot is compared. -#}
{%- set context_sql -%}
select md5(concat_ws(
    '/',
    (
        select count(*) || ':' || coalesce(sum(hashtextextended(
            row(category, procurement_method, min_period, period_unit, legal_basis)::text, 0
        )), 0)
        from {{ ref('int_bid_period_minimums') }}
    ),
    (
        select count(*) || ':' || coalesce(sum(hashtextextended(
            row(category, valid_from, valid_to, threshold_yuan, tender_methods, window_days, same_year)::text, 0
        )), 0)
        from {{ ref('mandatory_tender_thresholds') }}
    ),
    (
        select min(date_day) || ':' || coalesce(sum(hashtextextended(row(date_day, is_workday)::text, 0))
            filter (where is_workday <> (iso_day_of_week < 6)), 0)
        from {{ ref('int_workdays') }}
    ),
    (
        select count(*) || ':' || coalesce(sum(hashtextextended(tender_id, 0)), 0)
        from {{ ref('int_lots_summarised') }}
        where greatest(announced_on, deadline_on) > (select max(date_day) from {{ ref('int_workdays') }})
    )
))
{%- endset %}

{%- set logged = changed_keys_since_last_build(['int_lots_summarised', 'int_bids_joined_to_lots']) %}
{%- if logged is not none %}
{%- set same_context = run_query(
    "select (" ~ context_sql ~ ") = (select split_part(kept.input_fingerprint, '/', 1) from "
    ~ this ~ " as kept limit 1)"
) %}
{%- if not same_context.rows[0][0] %}
{%- set logged = none %}
{%- endif %}
{%- endif %}
{%- set candidates = 'select candidate_keys.key_value from candidate_keys' if logged is not none else none %}

-- not materialized: read (on a night, for the lots that may have changed) by key or by owner;
-- a table is cut to a night's keys by `= any(array(...))` (an index scan), a CTE by `in (select
-- ...)` (hashed: any() searched the array of a night's keys once per row of the owners' lots,
-- 0.3 s twice at scale 4)
with lots as not materialized (

    select * from {{ ref('int_lots_summarised') }}

),

bids as not materialized (

    select * from {{ ref('int_bids_joined_to_lots') }}

),

minimums as (

    select * from {{ ref('int_bid_period_minimums') }}

),

thresholds as (

    select * from {{ ref('mandatory_tender_thresholds') }}

),

context as (

    {{ context_sql }} as fingerprint

),

-- newest bid of each bidder of a lot
latest_bids as not materialized (

    select * from bids
    where bidder_bid_seq = 1

),
{%- if logged is not none %}

-- a night: the lots the parents logged since this model's last build
logged_keys as materialized (

    select unnest(array({{ logged }})) as key_value

),

-- the lots flagged pf_split_lots with a logged lot among their related lots: that lot may have
-- left their group (a lot not flagged stays so when a lot leaves its group)
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
{%- if logged is not none %}

-- the lots a night compares: the logged lots, the flagged mates of those, and the candidates
-- whose window reaches a logged candidate's group (their fingerprints read that group's)
candidate_keys as materialized (

    select logged_keys.key_value from logged_keys
    union
    select split_mates.tender_id from split_mates
    union
    select mates.tender_id
    from split_candidates as mates
    inner join split_candidates as logged_lots
        on mates.tenderer_id = logged_lots.tenderer_id
        and mates.category = logged_lots.category
        and mates.threshold_valid_from = logged_lots.threshold_valid_from
        and logged_lots.group_year between mates.group_year_from and mates.group_year_to
    where logged_lots.tender_id in (select logged_keys.key_value from logged_keys)

),
{%- endif %}

candidate_lots as (

    select * from lots
    {{ where_candidates(candidates) }}

),

candidate_bids as (

    select * from latest_bids
    {{ where_candidates(candidates) }}

),

-- the fingerprint of each group of a year (the columns the split rule reads of its lots)
group_fingerprints as (

    {{ input_fingerprints(
        'split_candidates',
        'tenderer_id, category, threshold_valid_from, group_year',
        ['tender_id', 'industry', 'project_code', 'procurement_method', 'announced_on', 'amount'],
    ) }}

),

-- a lot's input rows: its row and its latest bids (the columns read below) and, for a split
-- candidate, the fingerprints of the groups its window reaches
lot_inputs as (

    select
        tender_id,
        'lot' as input_kind,
        row(
            lot_date, n_bids, n_bidders, n_valid_bids, procurement_method, evaluation_method, category, industry,
            project_code, tenderer_id, agency_id, winner_id, winner_bid_valid, winner_bid_id, winner_bid_price,
            winner_submitted_at, award_price, awarded_on, control_price, announced_at, announced_on, bid_deadline,
            deadline_on
        )::text as input_row
    from candidate_lots

    union all

    select
        tender_id,
        'bid' as input_kind,
        row(bid_id, bidder_id, is_valid, rejection_reason, bid_price)::text as input_row
    from candidate_bids

    union all

    select
        lot.tender_id,
        'group' as input_kind,
        row(group_fps.group_year, group_fps.input_fingerprint)::text as input_row
    from split_candidates as lot
    inner join group_fingerprints as group_fps
        on lot.tenderer_id = group_fps.tenderer_id
        and lot.category = group_fps.category
        and lot.threshold_valid_from = group_fps.threshold_valid_from
        and group_fps.group_year between lot.group_year_from and lot.group_year_to
    {%- if logged is not none %}
    where lot.tender_id in (select candidate_keys.key_value from candidate_keys)
    {%- endif %}

),

lot_fingerprints as (

    {{ input_fingerprints('lot_inputs', 'tender_id', ['input_kind', 'input_row'], salt=salt) }}

),

-- the lots (those with a row), each fingerprint prefixed with the context
fingerprints as (

    select
        lot_fingerprints.tender_id,
        context.fingerprint || '/' || lot_fingerprints.input_fingerprint as input_fingerprint
    from lot_fingerprints
    cross join context
    where lot_fingerprints.tender_id in (select candidate_lots.tender_id from candidate_lots)

),

changed as (

    {{ changed_keys('fingerprints', 'tender_id', candidates) }}

),

-- the lots judged, and their latest bids
judged_lots as (

    select candidate_lots.*
    from candidate_lots
    where candidate_lots.tender_id in (select changed.tender_id from changed)

),

judged_bids as (

    select candidate_bids.*
    from candidate_bids
    where candidate_bids.tender_id in (select changed.tender_id from changed)

),

all_but_winner as (

    select tender_id
    from judged_lots
    where
        winner_id is not null
        and winner_bid_valid
        and n_bidders >= 3
        and n_valid_bids = 1

),

single_bid as (

    select
        lots.tender_id,
        lots.lot_date as signal_date,
        array_agg(latest_bids.bidder_id order by latest_bids.bidder_id) as entity_ids,
        jsonb_build_object(
            'n_bids', min(lots.n_bids), 'n_bidders', min(lots.n_bidders), 'n_valid_bids', min(lots.n_valid_bids),
            'valid_bid_id', min(latest_bids.bid_id), 'procurement_method', min(lots.procurement_method)
        ) as evidence
    from judged_lots as lots
    inner join judged_bids as latest_bids on lots.tender_id = latest_bids.tender_id and latest_bids.is_valid
    where
        lots.n_valid_bids = 1
        -- single-source, auction and listing take one bidder by design
        and lots.procurement_method not in ('single_source', 'auction', 'listing')
    group by lots.tender_id, lots.lot_date

),

all_but_winner_signals as (

    select
        lots.tender_id,
        lots.lot_date as signal_date,
        array[lots.winner_id] as entity_ids,
        jsonb_build_object(
            'winner_id', lots.winner_id,
            'n_bidders', lots.n_bidders,
            'rejected', jsonb_agg(
                jsonb_build_object('bid_id', b.bid_id, 'bidder_id', b.bidder_id, 'reason', b.rejection_reason)
                order by b.bid_id
            )
        ) as evidence
    from judged_lots as lots
    inner join judged_bids as b on lots.tender_id = b.tender_id and not b.is_valid
    where lots.tender_id in (select a.tender_id from all_but_winner as a)
    group by lots.tender_id, lots.lot_date, lots.winner_id, lots.n_bidders

),

lowest_rejected as (

    select
        lots.tender_id,
        lots.lot_date as signal_date,
        array_remove(array_agg(distinct b.bidder_id) || array[lots.winner_id], null) as entity_ids,
        jsonb_build_object(
            'lowest_bids', jsonb_agg(
                jsonb_build_object(
                    'bid_id', b.bid_id, 'bidder_id', b.bidder_id, 'bid_price', b.bid_price,
                    'reason', b.rejection_reason
                ) order by b.bid_id
            ),
            'winner_id', lots.winner_id,
            'winner_bid_price', lots.winner_bid_price
        ) as evidence
    from judged_lots as lots
    inner join (  -- noqa: ST05
        select
            judged_bids.*,
            min(judged_bids.bid_price) over (partition by judged_bids.tender_id) as lot_min_price
        from judged_bids
        where judged_bids.bid_price > 0
    ) as b on lots.tender_id = b.tender_id
    where
        lots.evaluation_method = 'lowest_price'
        and lots.n_bidders >= 2
        and b.bid_price = b.lot_min_price
        and not b.is_valid
    group by lots.tender_id, lots.lot_date, lots.winner_id, lots.winner_bid_price

),

short_period as (

    select
        lots.tender_id,
        lots.announced_on as signal_date,
        array_remove(array[lots.tenderer_id, lots.agency_id], null) as entity_ids,
        jsonb_build_object(
            'announced_at', lots.announced_at,
            'bid_deadline', lots.bid_deadline,
            'period', p.period,
            'minimum', minimums.min_period,
            'unit', minimums.period_unit,
            'procurement_method', lots.procurement_method,
            'legal_basis', minimums.legal_basis
        ) as evidence
    from judged_lots as lots
    inner join minimums
        on lots.category = minimums.category
        and lots.procurement_method = minimums.procurement_method
    cross join
        lateral (  -- noqa: ST05
            select case minimums.period_unit
                when 'workdays' then {{ workdays_between('lots.announced_on', 'lots.deadline_on') }}
                else lots.deadline_on - lots.announced_on
            end as period
        ) as p
    where p.period < minimums.min_period

),

near_control as (

    select
        tender_id,
        awarded_on as signal_date,
        array[winner_id] as entity_ids,
        jsonb_build_object(
            'award_price', award_price,
            'control_price', control_price,
            'gap_pct', round(100 * (control_price - award_price) / control_price, 4),
            'n_bidders', n_bidders,
            'threshold_pct', {{ var('award_near_control_pct') }}
        ) as evidence
    from judged_lots
    where
        n_bidders >= 3
        and control_price > 0
        and award_price <= control_price
        and award_price >= control_price * (1 - {{ var('award_near_control_pct') }} / 100.0)

),

late_winner as (

    select
        tender_id,
        deadline_on as signal_date,
        array[winner_id] as entity_ids,
        jsonb_build_object(
            'winner_id', winner_id,
            'bid_id', winner_bid_id,
            'submitted_at', winner_submitted_at,
            'bid_deadline', bid_deadline,
            'minutes_late', round(extract(epoch from winner_submitted_at - bid_deadline) / 60.0, 1)
        ) as evidence
    from judged_lots
    where winner_submitted_at > bid_deadline

),

-- the judged lots' split purchases, against every candidate of their owners
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
        {'rule_id': "'pf_single_bid'", 'from': 'single_bid'},
        {'rule_id': "'pf_all_but_winner_rejected'", 'from': 'all_but_winner_signals'},
        {'rule_id': "'pf_lowest_rejected'", 'from': 'lowest_rejected'},
        {'rule_id': "'pf_short_bid_period'", 'from': 'short_period'},
        {'rule_id': "'pf_award_near_control'", 'from': 'near_control'},
        {'rule_id': "'pf_late_winning_bid'", 'from': 'late_winner'},
        {'rule_id': "'pf_split_lots'", 'from': 'split_lots'},
    ]) }}

),

-- every changed lot: its signals, or one placeholder row (a tombstone's is dropped)
final as (

    {{ signals_by_changed_lot('changed', 'signals') }}

)

select * from final
