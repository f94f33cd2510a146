{#- 一项一码: fold full-width characters and dashes to ASCII, drop white space, upper-case.
    The result is the canonical YYYY-RRRRRR-II-TT-NNNNNN when the delivered code was only
    mistyped; is_valid_project_code() says whether it is. -#}
{% macro normalize_project_code(col) -%}
    nullif(upper(regexp_replace(
        translate(
            {{ col }},
            '０１２３４５６７８９－—–―‐－ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ',
            '0123456789------ABCDEFGHIJKLMNOPQRSTUVWXYZ'
        ),
        '[[:space:]　]+', '', 'g'
    )), '')
{%- endmacro %}

{% macro is_valid_project_code(col) -%}
    ({{ col }} ~ '^(19|20)[0-9]{2}-[0-9]{6}-[0-9]{2}-[0-9]{2}-[0-9]{6}$')
{%- endmacro %}
