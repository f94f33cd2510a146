{#- Masking of personal data (个人信息脱敏) for the disclosure tables and the analyst views.
    Natural persons are never shown in the clear outside raw/staging/intermediate:
    - names:      张三 -> 张*, 欧阳娜娜 -> 欧***   (first character, one '*' per remaining one)
    - ID numbers: 530102199001011234 -> 530102********1234 (region kept, birth date hidden)
    - phones:     13812345678 -> 138****5678
    - accounts:   6222020200112233445 -> ***************3445 (last four only)
    Every macro returns NULL for NULL/empty input and never returns the input unchanged. -#}

{% macro mask_name(col) -%}
    case
        when nullif(trim({{ col }}), '') is null then null
        when char_length(trim({{ col }})) = 1 then '*'
        else left(trim({{ col }}), 1) || repeat('*', char_length(trim({{ col }})) - 1)
    end
{%- endmacro %}

{% macro mask_id_no(col) -%}
    case
        when nullif(trim({{ col }}), '') is null then null
        when char_length(trim({{ col }})) = 18
            then left(trim({{ col }}), 6) || repeat('*', 8) || right(trim({{ col }}), 4)
        when char_length(trim({{ col }})) = 15
            then left(trim({{ col }}), 6) || repeat('*', 6) || right(trim({{ col }}), 3)
        else repeat('*', char_length(trim({{ col }})))
    end
{%- endmacro %}

{% macro mask_phone(col) -%}
    case
        when nullif(regexp_replace({{ col }}, '[^0-9]', '', 'g'), '') is null then null
        when char_length(regexp_replace({{ col }}, '[^0-9]', '', 'g')) >= 7
            then left(regexp_replace({{ col }}, '[^0-9]', '', 'g'), 3)
                || repeat('*', char_length(regexp_replace({{ col }}, '[^0-9]', '', 'g')) - 7)
                || right(regexp_replace({{ col }}, '[^0-9]', '', 'g'), 4)
        else repeat('*', char_length(regexp_replace({{ col }}, '[^0-9]', '', 'g')))
    end
{%- endmacro %}

{% macro mask_account(col) -%}
    case
        when nullif(trim({{ col }}), '') is null then null
        when char_length(trim({{ col }})) > 4
            then repeat('*', char_length(trim({{ col }})) - 4) || right(trim({{ col }}), 4)
        else repeat('*', char_length(trim({{ col }})))
    end
{%- endmacro %}

{#- A party id that is either a USCC (company, may be shown) or a resident ID number
    (natural person, masked), as in entity_links.linked_id: a person when it has the
    shape and the GB 11643 check digit of an ID number (an all-digit USCC that happens
    to pass that check is treated as a person: the safe side). -#}
{% macro is_person_id(col) -%}
    case
        when {{ col }} ~ '^[0-9]{15}$' then true
        when {{ col }} ~ '^[0-9]{17}[0-9Xx]$' then upper(right({{ col }}, 1)) = (
            select substr('10X98765432', (sum(
                substr({{ col }}, i, 1)::int
                * (array[7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])[i]
            ) % 11)::int + 1, 1)
            from generate_series(1, 17) as i
        )
        else false
    end
{%- endmacro %}
