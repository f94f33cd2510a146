{#- A stable pseudonym for a natural person's identifier (ID number, phone), so that
    marts can say "the same person" (shared legal representative, project manager)
    without showing who. Keyed with GGZY_PII_SALT (set it in production; the default is
    for demo data only): ID numbers are too structured to be safe behind a bare hash.
    Returns null for null/empty input. -#}
{% macro person_key(col) -%}
    case
        when nullif(trim({{ col }}), '') is not null
            then 'p_' || left(md5('{{ env_var("GGZY_PII_SALT", "ggzy-watch-demo") }}|' || upper(trim({{ col }}))), 16)
    end
{%- endmacro %}

{#- Does a party id look like a resident ID number (a natural person) rather than a USCC?
    18 characters, a six-digit region, a birth date 19xx/20xx, a sequence and a check
    character; a USCC practically never has a calendar date in positions 7-14. -#}
{% macro looks_like_id_no(col) -%}
    coalesce(
        upper(trim({{ col }})) ~ '^[1-9][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]$',
        false
    )
{%- endmacro %}
