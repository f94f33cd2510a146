-- grain: one row per rule x tender (lot), for the Art. 40 rules (a40_*) found among the bids of one lot
-- Bids of different bidders of one lot that share a trace of the electronic bidding system
-- (file-maker code, CA certificate, client IP or MAC, bond account, project manager) or whose
-- prices are identical or in regular progression: 《招标投标法实施条例》第40条 "视为串通投标".
-- (nested loops off: the planner underestimates the self-joins of bids within a lot and would
-- take minutes on a province-year of bids)
{{ config(
    pre_hook=["set local enable_nestloop = off", "set local work_mem = '256MB'"],
) }}

with bids as (

    select * from {{ ref('int_bids_joined_to_lots') }}

),

-- one row per bid and traced field, with the value normalised for comparison and the value as
-- entered (shown in the evidence, masked, only for the values found shared)
traces as (

    select
        bids.tender_id,
        bids.bid_id,
        bids.bidder_id,
        bids.bid_date,
        t.field,
        t.rule_id,
        t.norm_value,
        t.raw_value
    from bids
    cross join
        lateral (
            values
            ('file_maker_code', 'a40_same_file_maker', upper(bids.file_maker_code), bids.file_maker_code),
            ('ca_cert_serial', 'a40_same_ca_cert', upper(bids.ca_cert_serial), bids.ca_cert_serial),
            ('client_ip', 'a40_same_ip', bids.client_ip, bids.client_ip),
            (
                'client_mac', 'a40_same_mac',
                nullif(upper(regexp_replace(bids.client_mac, '[^0-9A-Fa-f]', '', 'g')), ''),
                bids.client_mac
            ),
            (
                'bond_account', 'a40_same_bond_account',
                nullif(regexp_replace(bids.bond_account, '[[:space:]-]', '', 'g'), ''),
                bids.bond_account
            ),
            (
                'project_manager_id_no', 'a40_same_project_manager',
                bids.project_manager_id_no,
                bids.project_manager_id_no
            ),
            (
                'bid_price', 'a40_identical_price',
                case
                    when
                        bids.bid_price > 0 and bids.bidder_bid_seq = 1
                        and coalesce(bids.procurement_method, '') not in ('auction', 'listing')
                        then bids.bid_price::text
                end,
                bids.bid_price::text
            )
        ) as t (field, rule_id, norm_value, raw_value)
    where t.norm_value is not null

),

-- the values shared by different bidders of a lot (hashed: no sort of every trace)
shared_keys as (

    select
        tender_id,
        rule_id,
        norm_value
    from traces
    group by tender_id, rule_id, norm_value
    having min(bidder_id) <> max(bidder_id)

),

shared_values as (

    select
        traces.tender_id,
        traces.rule_id,
        traces.field,
        traces.norm_value,
        min(
            case traces.field
                when 'bond_account' then {{ mask_account('traces.raw_value') }}
                when 'project_manager_id_no' then {{ mask_id_no('traces.raw_value') }}
                else traces.raw_value
            end
        ) as shown_value,
        min(traces.bid_date) as first_bid_date,
        array_agg(distinct traces.bidder_id order by traces.bidder_id) as bidder_ids,
        array_agg(distinct traces.bid_id order by traces.bid_id) as bid_ids
    from traces
    inner join shared_keys
        on traces.tender_id = shared_keys.tender_id
        and traces.rule_id = shared_keys.rule_id
        and traces.norm_value = shared_keys.norm_value
    group by traces.tender_id, traces.rule_id, traces.field, traces.norm_value

),

shared_signals as (

    select
        rule_id,
        tender_id,
        min(first_bid_date) as signal_date,
        jsonb_build_object(
            'field', min(field),
            'groups', jsonb_agg(
                jsonb_build_object(
                    'value', shown_value, 'bidder_ids', to_jsonb(bidder_ids), 'bid_ids', to_jsonb(bid_ids)
                )
                order by shown_value
            )
        ) as evidence
    from shared_values
    group by rule_id, tender_id

),

shared_entities as (

    select
        shared_values.rule_id,
        shared_values.tender_id,
        array_agg(distinct b.bidder_id order by b.bidder_id) as entity_ids
    from shared_values
    cross join lateral unnest(shared_values.bidder_ids) as b (bidder_id)
    group by shared_values.rule_id, shared_values.tender_id

),

-- prices of one lot, one per bidder (its newest bid), in order, for the progression test.
-- Auctions and listings are left out of the price rules: there bids rise by a fixed
-- increment (加价幅度) by design.
priced as (

    select
        tender_id,
        bid_id,
        bidder_id,
        bid_price,
        bid_date,
        lag(bid_price) over w as prev_price,
        lead(bid_price) over w as next_price,
        lag(bid_id) over w as prev_bid_id,
        lead(bid_id) over w as next_bid_id,
        lag(bidder_id) over w as prev_bidder_id,
        lead(bidder_id) over w as next_bidder_id
    from bids
    where
        bidder_bid_seq = 1
        and bid_price > 0
        and coalesce(procurement_method, '') not in ('auction', 'listing')
    window w as (partition by tender_id order by bid_price, bid_id)

),

-- three consecutive prices p1 < p2 < p3 of different bidders such that p3 is what p1 and p2
-- predict for an arithmetic (p3 = 2 p2 - p1) or geometric (p3 = p2^2 / p1) progression, up
-- to the rounding of each price to the cent (tolerance 2 fen)
progressions as (

    select
        priced.tender_id,
        k.kind,
        case k.kind
            when 'arithmetic' then priced.bid_price - priced.prev_price
            else round(priced.bid_price / priced.prev_price, 6)
        end as step,
        array[priced.prev_bidder_id, priced.bidder_id, priced.next_bidder_id] as bidder_ids,
        array[priced.prev_bid_id, priced.bid_id, priced.next_bid_id] as bid_ids,
        array[priced.prev_price, priced.bid_price, priced.next_price] as prices,
        priced.bid_date
    from priced
    cross join
        lateral (
            values
            ('arithmetic', 2 * priced.bid_price - priced.prev_price),
            ('geometric', priced.bid_price * priced.bid_price / priced.prev_price)
        ) as k (kind, predicted)
    where
        priced.prev_price < priced.bid_price
        and priced.bid_price < priced.next_price
        and priced.prev_bidder_id <> priced.bidder_id
        and priced.next_bidder_id not in (priced.prev_bidder_id, priced.bidder_id)
        and abs(priced.next_price - k.predicted) <= 0.02

),

progression_signals as (

    select
        'a40_price_progression' as rule_id,
        tender_id,
        min(bid_date) as signal_date,
        jsonb_build_object(
            'progressions', jsonb_agg(
                jsonb_build_object(
                    'kind', kind, 'step', step, 'prices', to_jsonb(prices),
                    'bidder_ids', to_jsonb(bidder_ids), 'bid_ids', to_jsonb(bid_ids)
                )
                order by prices
            )
        ) as evidence
    from progressions
    group by tender_id

),

progression_entities as (

    select
        progressions.tender_id,
        array_agg(distinct b.bidder_id order by b.bidder_id) as entity_ids
    from progressions
    cross join lateral unnest(progressions.bidder_ids) as b (bidder_id)
    group by progressions.tender_id

),

final as (

    select
        shared_signals.rule_id,
        'tender' as subject_type,
        shared_signals.tender_id as subject_id,
        shared_signals.tender_id,
        shared_entities.entity_ids,
        null::text[] as expert_ids,
        shared_signals.signal_date,
        1.0::numeric as score,
        shared_signals.evidence
    from shared_signals
    inner join shared_entities
        on shared_signals.rule_id = shared_entities.rule_id
        and shared_signals.tender_id = shared_entities.tender_id

    union all

    select
        progression_signals.rule_id,
        'tender' as subject_type,
        progression_signals.tender_id as subject_id,
        progression_signals.tender_id,
        progression_entities.entity_ids,
        null::text[] as expert_ids,
        progression_signals.signal_date,
        1.0::numeric as score,
        progression_signals.evidence
    from progression_signals
    inner join progression_entities on progression_signals.tender_id = progression_entities.tender_id

)

select * from final
