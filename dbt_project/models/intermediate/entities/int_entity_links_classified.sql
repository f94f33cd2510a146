-- grain: one row per entity_id x link_type x linked_id
-- Incremental by what changed (macros/changed_keys.sql), keyed by the entity: an entity's links
-- depend only on its own link rows, its register row and the pseudonym key. A night fingerprints
-- the entities whose link or register rows were stamped since this model's last build (every
-- entity after a re-delivered day: macro changed_keys_since_last_staged, macros/change_log.sql)
-- and classifies those whose fingerprint changed; a new pseudonym key (the context every
-- fingerprint starts with) classifies every entity again, as access.md's rotation needs. Rebuilt
-- whole, the night classified every link of the history again (scale 16: 368,398 links, 8.0 s;
-- issue #18). The entity index is unique on the grain (nulls not distinct): it refuses a
-- duplicate link as it is written, in place of a data test that read the links (it replaces
-- int_entity_links_classified_entity_idx, on the entity alone).
{#- pre_hook: a table built before the model was incremental gains the column (null), so its
    first incremental run classifies every entity, as a full refresh would (no deploy step) -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='entity_id',
    on_schema_change='fail',
    pre_hook=["alter table if exists {{ this }} add column if not exists input_fingerprint text"],
    post_hook=[
        "{{ analyze_if_new(this) }}",
        "{{ lasting_index(this, 'entity_link', 'entity_id, link_type, linked_id', unique=true, nulls_not_distinct=true) }}",
        "drop index if exists {{ this.schema }}.{{ this.identifier }}_entity_idx",
        "{{ lasting_index(this, 'party', 'linked_party_key') }}",
    ],
) }}

{#- What every entity's rows share: the pseudonym key, as the pseudonym of a fixed text (a value
    of the kind the marts show, not the key). -#}
{%- set context_sql -%}
select md5({{ person_key("'ggzy/int_entity_links_classified'") }})
{%- endset %}

{%- set candidates = changed_keys_since_last_staged([
    (ref('stg_trading_centre__entity_links'), 'entity_id'),
    (ref('stg_trading_centre__entities'), 'entity_id'),
]) %}
{%- set candidates = none if candidates is not none and changed_context(context_sql) else candidates %}

{# Links of an entity (legal representatives, shareholders, project managers, staff),
   with the legal representative of the entity register added as a link, and each
   linked party classified as a company (USCC, shown as is) or a natural person
   (pseudonymised by person_key). The raw identifiers stay here in intermediate, which
   only the auditor role reads; marts carry linked_party_key. #}

-- (not materialised: read for the fingerprints, and by the changed entities' keys below)
with entity_links as not materialized (

    select
        entity_id,
        link_type,
        linked_id,
        linked_name,
        share_pct
    from {{ ref('stg_trading_centre__entity_links') }}
    {{ where_candidates(candidates, 'entity_id') }}

),

-- an entity without a legal representative in the register adds no link: not an input
entities as not materialized (

    select
        entity_id,
        legal_rep_id_no,
        legal_rep_name
    from {{ ref('stg_trading_centre__entities') }}
    {{ where_candidates(candidates, 'entity_id') }}

),

context as (

    {{ context_sql }} as fingerprint

),

entity_inputs as (

    select
        entity_id,
        'link' as input_kind,
        row(link_type, linked_id, linked_name, share_pct)::text as input_row
    from entity_links

    union all

    select
        entity_id,
        'register' as input_kind,
        row(legal_rep_id_no, legal_rep_name)::text as input_row
    from entities
    where legal_rep_id_no is not null

),

fingerprints as (

    {{ input_fingerprints(
        'entity_inputs', 'entity_id', ['input_kind', 'input_row'], context='select context.fingerprint from context'
    ) }}

),

changed as (

    {{ changed_keys('fingerprints', 'entity_id', candidates) }}

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
    {%- if is_incremental() %}
    where entity_id = any(array(select changed.entity_id from changed))
    {%- endif %}
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
        {%- if is_incremental() %}
        and entities.entity_id = any(array(select changed.entity_id from changed))
        {%- endif %}
        and not exists (
            select 1
            from entity_links as el
            where el.entity_id = entities.entity_id
                and el.link_type = 'legal_rep'
                and el.linked_id = entities.legal_rep_id_no
        )

),

-- whether the party looks like a natural person, tested once per link: the regular expression
-- is most of this model's select (scale 16: 368,398 links, 2 s a pass), and the classification
-- reads it twice (materialized: an inlined CTE would repeat the expression at each reference)
kinds as materialized (

    select
        *,
        {{ looks_like_id_no('linked_id') }} as is_person
    from all_links

),

classified as (

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

),

-- every changed entity: its links (a tombstone's row is dropped)
final as (

    select
        changed.entity_id,
        classified.link_type,
        classified.linked_id,
        classified.linked_name,
        classified.share_pct,
        classified.link_source,
        classified.linked_party_kind,
        classified.linked_party_key,
        changed.input_fingerprint
    from changed
    left join classified on changed.entity_id = classified.entity_id

)

select * from final
