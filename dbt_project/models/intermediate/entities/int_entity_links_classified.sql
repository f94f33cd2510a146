-- grain: one row per entity_id x link_type x linked_id
{{ config(
    post_hook=[
        "{{ table_index(this, 'entity', 'entity_id') }}",
        "{{ table_index(this, 'party', 'linked_party_key') }}",
    ],
) }}

{# Links of an entity (legal representatives, shareholders, project managers, staff),
   with the legal representative of the entity register added as a link, and each
   linked party classified as a company (USCC, shown as is) or a natural person
   (pseudonymised by person_key). The raw identifiers stay here in intermediate, which
   only the auditor role reads; marts carry linked_party_key. #}

with entity_links as (

    select * from {{ ref('stg_trading_centre__entity_links') }}

),

entities as (

    select * from {{ ref('stg_trading_centre__entities') }}

),

all_links as (

    select
        entity_id,
        link_type,
        linked_id,
        linked_name,
        share_pct,
        'entity_links' as link_source
    from entity_links
    union all
    select
        entities.entity_id,
        'legal_rep' as link_type,
        entities.legal_rep_id_no as linked_id,
        entities.legal_rep_name as linked_name,
        null::numeric as share_pct,
        'entities' as link_source
    from entities
    where entities.legal_rep_id_no is not null
        and not exists (
            select 1
            from entity_links as el
            where el.entity_id = entities.entity_id
                and el.link_type = 'legal_rep'
                and el.linked_id = entities.legal_rep_id_no
        )

),

-- whether the party looks like a natural person, tested once per link: the regular expression
-- is most of this model's select (scale 16: 368,398 links, 2 s a pass), and final reads it
-- twice (materialized: an inlined CTE would repeat the expression at each reference)
kinds as materialized (

    select
        *,
        {{ looks_like_id_no('linked_id') }} as is_person
    from all_links

),

final as (

    select
        entity_id,
        link_type,
        linked_id,
        linked_name,
        share_pct,
        link_source,
        case when is_person then 'person' else 'company' end as linked_party_kind,
        case
            when is_person then {{ person_key('linked_id') }}
            else linked_id
        end as linked_party_key
    from kinds

)

select * from final
