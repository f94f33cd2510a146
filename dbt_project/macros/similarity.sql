{#- Fuzzy matching in plain SQL, so that it runs on any PostgreSQL >= 15 without
    contrib extensions (pg_trgm ignores CJK characters in the C locale anyway).

    name_key(col): a name reduced to what identifies it: lot suffixes (第N标段, 标段N,
    N标段), punctuation and white space removed, lower-cased.

    bigram_dice(a, b): Dice coefficient 2|A ∩ B| / (|A| + |B|) of the sets of character
    bigrams of two strings (0..1). Tolerant of a lot named after its project plus a
    suffix ("XX道路改造工程施工" vs "XX道路改造工程": 0.91) while two projects of one owner
    that only share the place name stay apart (~0.4); the overlap coefficient would
    score both near 1 when one name is short.

    code_digits(col): the digits of a project code, reading the letters typists confuse
    with digits as those digits (O -> 0, I/L -> 1).

    digit_similarity(a, b): how close two digit strings are as a typing error, from an
    approximate edit distance d — the fewer of (positions that differ, for equal lengths)
    and (length not covered by the common prefix plus the common suffix, which counts a
    dropped, doubled or mistyped digit as 1): d = 0 -> 1, 1 -> 0.8, 2 -> 0.4, 3 -> 0.2,
    more -> 0. Distances, not shares: an owner's projects share almost every digit of
    their codes, so only "one keystroke away" tells the right one apart. -#}

{% macro name_key(col) -%}
    lower(regexp_replace(
        coalesce({{ col }}, ''),
        '(第[0-9０-９一二三四五六七八九十百]+(标段|包|标)|标段[0-9０-９一二三四五六七八九十]*|[0-9０-９一二三四五六七八九十]+标段|[[:space:][:punct:]　（）【】《》“”‘’、，。：；！？—－·]+)',
        '',
        'g'
    ))
{%- endmacro %}

{% macro bigram_dice(a, b) -%}
    (
        select coalesce(
            2 * count(*) filter (where bg.in_a and bg.in_b)::numeric
            / nullif(count(*) filter (where bg.in_a) + count(*) filter (where bg.in_b), 0),
            0
        )
        from (
            select
                grams.gram,
                bool_or(grams.side = 'a') as in_a,
                bool_or(grams.side = 'b') as in_b
            from (
                select substr({{ a }}, i, 2) as gram, 'a' as side
                from generate_series(1, char_length({{ a }}) - 1) as i
                union all
                select substr({{ b }}, i, 2) as gram, 'b' as side
                from generate_series(1, char_length({{ b }}) - 1) as i
            ) as grams
            group by grams.gram
        ) as bg
    )
{%- endmacro %}

{% macro digit_similarity(a, b) -%}
    (
        select
            case
                when char_length({{ a }}) = 0 or char_length({{ b }}) = 0 then 0
                else case least(d.positional, d.aligned)
                    when 0 then 1.0
                    when 1 then 0.8
                    when 2 then 0.4
                    when 3 then 0.2
                    else 0
                end
            end
        from (
            select
                case
                    when char_length({{ a }}) = char_length({{ b }})
                        then (
                            select count(*)
                            from generate_series(1, char_length({{ a }})) as i
                            where substr({{ a }}, i, 1) <> substr({{ b }}, i, 1)
                        )
                    else 99
                end as positional,
                greatest(char_length({{ a }}), char_length({{ b }})) - least(
                    (
                        select count(*)
                        from generate_series(1, least(char_length({{ a }}), char_length({{ b }}))) as i
                        where left({{ a }}, i) = left({{ b }}, i)
                    )
                    + (
                        select count(*)
                        from generate_series(1, least(char_length({{ a }}), char_length({{ b }}))) as i
                        where right({{ a }}, i) = right({{ b }}, i)
                    ),
                    least(char_length({{ a }}), char_length({{ b }}))
                ) as aligned
        ) as d
    )
{%- endmacro %}

{% macro code_digits(col) -%}
    regexp_replace(translate(upper(coalesce({{ col }}, '')), 'OIL', '011'), '[^0-9]', '', 'g')
{%- endmacro %}
