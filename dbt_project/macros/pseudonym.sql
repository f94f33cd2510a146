{#- A stable pseudonym for a natural person's identifier (ID number, phone), so that
    marts can say "the same person" (shared legal representative, project manager)
    without showing who: HMAC-SHA256 with the deployment's key, cut to 16 hex digits.
    The key is read from vault.pseudonym_key (installed by `ggzy warehouse start` /
    schema.bootstrap, readable by the pipeline role only; see plugins/ggzy/pseudonym.py),
    never written into the SQL, so it is not in target/, statement logs or `ps`. The
    table holds the RFC 2104 pads, so HMAC is two calls of the built-in sha256().
    Returns null for null/empty input. -#}
{% macro person_key(col) -%}
    case
        when nullif(trim({{ col }}), '') is not null
            then 'p_' || left(encode(sha256(
                (select vault_key.opad from vault.pseudonym_key as vault_key)
                || sha256(
                    (select vault_key.ipad from vault.pseudonym_key as vault_key)
                    || convert_to(upper(trim({{ col }})), 'UTF8')
                )
            ), 'hex'), 16)
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
