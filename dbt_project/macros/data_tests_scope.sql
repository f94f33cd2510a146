{#- The night's data tests look at what the night changed (issue #18), where that is known.

    Every generic data test reads its model through get_where_subquery (dbt-core's
    macros/materializations/tests/where_subquery.sql, overridden here; the test's own `where`
    config still applies first). With --vars '{data_tests_scope: night}' (the nightly DAG's
    dbt_build), a test on an incremental staging model (strategy newest_version) reads only:
      - not_null, accepted_values, accepted_range, expression_is_true, relationships: the rows
        of the night (relationships' parent side, its `to`, is read whole as before);
      - unique, unique_combination: every row whose key one of the night's rows has, so a new
        row that repeats an old key still fails.
    A test on a per-key model (strategy replace_changed_keys, one lot's rows replaced together)
    reads the rows of the keys the night's builds recomputed (ops.model_changes,
    macros/change_log.sql), the same way; a unique test whose columns include the model's key
    reads only those rows (a duplicate lies within one key).
    Any other test, every test on a table rebuilt each night (or a seed),
    any --full-refresh, a night on a Sunday (var data_tests_whole_weekday) and the default
    data_tests_scope 'all' (`ggzy dbt build` by hand): the whole table, dbt's own behaviour.

    The night's rows: rows loaded after the last night whose dbt build passed began its quality
    gate (less var staging_lookback, as staging's own watermark), a timestamp read when the test
    compiles and written into its SQL. That night's tests passed on everything loaded before
    it, by the same rule back to a night that tested whole; a failed or rerun night keeps its
    rows in scope until a night passes. A row of a staging model that is not a new version but
    an older one (it became newest because a re-delivered day dropped the newer version) carries
    an old loaded_at: so when a day of the model's feed was re-delivered since that night, its
    tests read the whole table, as they do before any night has passed. -#}

{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set scoped = data_tests_night_subquery(relation, where) if execute else none -%}
    {%- if scoped is not none -%}
        {%- do return(scoped) -%}
    {%- elif where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The weekly whole run: a night that starts on the ISO weekday var data_tests_whole_weekday
    (7, Sunday, in var timezone; null: never) tests every table whole, so a test added since,
    or a parent row a re-delivery removed, is checked within a week. -#}
{% macro data_tests_whole_today() -%}
    {%- set weekday = var('data_tests_whole_weekday', 7) -%}
    {%- if weekday is none -%}
        {{- return(false) -}}
    {%- endif -%}
    {{- return(run_started_at.astimezone(modules.pytz.timezone(var('timezone'))).isoweekday() == weekday | int) -}}
{%- endmacro %}

{#- Tests whose verdict on a row depends on that row alone. -#}
{% macro data_tests_row_tests() -%}
    {{- return(['not_null', 'accepted_values', 'accepted_range', 'expression_is_true', 'relationships']) -}}
{%- endmacro %}

{#- The scoped subquery of the test being compiled (context `model` is the test node), or none
    when the test reads the whole table. -#}
{% macro data_tests_night_subquery(relation, where='') -%}
    {%- if var('data_tests_scope', 'all') != 'night' or flags.FULL_REFRESH or data_tests_whole_today() -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set tested = graph.nodes.get(model.get('attached_node') or '') -%}
    {%- set test_name = (model.get('test_metadata') or {}).get('name') -%}
    {%- set kwargs = (model.get('test_metadata') or {}).get('kwargs') or {} -%}
    {%- set strategy = tested.config.get('incremental_strategy') if tested is not none else none -%}
    {%- if tested is none or tested.config.materialized != 'incremental'
          or strategy not in ('newest_version', 'replace_changed_keys')
          or test_name not in data_tests_row_tests() + ['unique', 'unique_combination'] -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set rows = '(select * from ' ~ relation ~ (' where ' ~ where if where else '') ~ ')' -%}
    {%- set columns = [kwargs.get('column_name')] if test_name == 'unique' else (kwargs.get('columns') or []) -%}
    {%- if strategy == 'newest_version' -%}
        {%- set feeds = [] -%}
        {%- for dep in tested.depends_on.nodes if dep in graph.sources -%}
            {%- do feeds.append(graph.sources[dep].source_name) -%}
        {%- endfor -%}
        {%- set loaded_after = data_tests_night_loaded_after(feeds) if feeds else none -%}
        {%- if loaded_after is none -%}
            {{- return(none) -}}
        {%- endif -%}
        {%- set night -%}night_rows.loaded_at > '{{ loaded_after }}'::timestamptz{%- endset -%}
    {%- else -%}
        {%- set key = tested.config.get('unique_key') -%}
        {%- set night_keys = data_tests_night_changed_keys(tested) -%}
        {%- if night_keys is none -%}
            {{- return(none) -}}
        {%- endif -%}
        {#- a per-key model rewrites all rows of a key together: a duplicate of columns that include
            the key lies within one key, so the night's keys' rows are enough -#}
        {%- if test_name in data_tests_row_tests() or key in columns -%}
            {%- set key_type = data_tests_lookup_types(relation, [key], night_keys, per_key=true) -%}
            {%- if key_type is not none -%}
                {%- set scoped -%}
    (select night_rows.* from ({{ night_keys }}) as night_keys cross join lateral (
        select * from {{ rows }} as night_rows where night_rows.{{ key }} = night_keys.key_value::{{ key_type[0] }} offset 0
    ) as night_rows) dbt_subquery
                {%- endset -%}
            {%- else -%}
                {%- set scoped -%}
    (select night_rows.* from {{ rows }} as night_rows where night_rows.{{ key }}::text in ({{ night_keys }})) dbt_subquery
                {%- endset -%}
            {%- endif -%}
            {{- return(scoped) -}}
        {%- endif -%}
        {%- set night -%}night_rows.{{ key }}::text in ({{ night_keys }}){%- endset -%}
    {%- endif -%}
    {%- if test_name in data_tests_row_tests() -%}
        {%- set scoped -%}
    (select night_rows.* from {{ rows }} as night_rows where {{ night }}) dbt_subquery
        {%- endset -%}
    {%- else -%}
        {%- if not columns or none in columns -%}
            {{- return(none) -}}
        {%- endif -%}
        {#- a key column the model declares nullable (nullable_key_columns) matches null to null,
            as group by groups it, through its row text ('()' for null); the others by value, as
            the strategy newest_version matches them -#}
        {%- set nullable = tested.config.get('nullable_key_columns') or [] -%}
        {%- set key = [] -%}
        {%- for column in columns -%}
            {%- do key.append('row(' ~ column ~ ')::text' if column in nullable else column) -%}
        {%- endfor -%}
        {#- looked up by index, key by key, where an index leads with these columns (a semi-join
            would sort or hash the whole table: 14 s for a night's evaluations at scale 16) -#}
        {%- set night_rows_sql = 'select 1 from ' ~ rows ~ ' as night_rows where ' ~ night -%}
        {%- if nullable | select('in', columns) | list | length == 0
              and data_tests_lookup_types(relation, columns, night_rows_sql) is not none -%}
            {%- set matches = [] -%}
            {%- for column in columns -%}
                {%- do matches.append('all_rows.' ~ column ~ ' = night_keys.' ~ column) -%}
            {%- endfor -%}
            {%- set scoped -%}
    (select all_rows.* from (
        select distinct {{ columns | join(', ') }} from {{ rows }} as night_rows where {{ night }}
    ) as night_keys cross join lateral (
        select * from {{ rows }} as all_rows where {{ matches | join(' and ') }} offset 0
    ) as all_rows) dbt_subquery
            {%- endset -%}
        {%- else -%}
            {%- set scoped -%}
    (select all_rows.* from {{ rows }} as all_rows where ({{ key | join(', ') }}) in (
        select {{ key | join(', ') }} from {{ rows }} as night_rows where {{ night }}
    )) dbt_subquery
            {%- endset -%}
        {%- endif -%}
    {%- endif -%}
    {{- return(scoped) -}}
{%- endmacro %}

{#- The night's rows are those loaded after this instant (text), read from the ledgers the
    nightly run writes (ops.run_ledger, ops.quality_gate): the start of the quality gate of the
    newest run whose dbt_build succeeded, less var staging_lookback. None (test whole) when no
    night has passed or a day of one of `feeds` was re-delivered since. -#}
{% macro data_tests_night_loaded_after(feeds) -%}
    {%- set query -%}
        select (passed.gate_checked_at - interval '{{ var("staging_lookback", "0 seconds") }}')::text
        from (
            select min(gate.checked_at) as gate_checked_at
            from ops.quality_gate as gate
            where gate.run_id = (
                select ledger.run_id
                from ops.run_ledger as ledger
                where ledger.task_states ->> 'dbt_build' = 'success'
                order by ledger.finished_at desc nulls last
                limit 1
            )
        ) as passed
        where not exists (
            select 1
            from raw.batch_events as redelivery
            where
                redelivery.event = 'reloaded'
                and redelivery.feed in ('{{ feeds | join("', '") }}')
                and redelivery.at > passed.gate_checked_at - interval '{{ var("staging_lookback", "0 seconds") }}'
        )
    {%- endset -%}
    {%- set found = run_query(query) -%}
    {{- return(found.rows[0][0] if found.rows | length > 0 else none) -}}
{%- endmacro %}

{#- A per-key model (strategy replace_changed_keys): the night's rows are those of the keys its
    builds logged (macros/change_log.sql) since the last night that passed began its quality
    gate (a key replaced then, tested then); none (test whole) when no night has passed or a
    build after that night replaced the whole table. A whole replacement within that night (a
    first build, a changed model's full refresh) was tested whole by that night's own tests, by
    this same rule, so the next night needs only its keys (the night after a deploy once read
    whole tables: 12 M pair rows, 44 s of tests at scale 16). A re-delivered day needs no
    exception here: the keys it changes are recomputed, so logged. A whole replacement by hand
    while a night runs, finished before the night's ledger row, counts as that night's: nights
    and builds by hand are not run side by side (docs/architecture.md, operations). -#}
{% macro data_tests_night_changed_keys(tested) -%}
    {%- set key = tested.config.get('unique_key') -%}
    {%- if not key or key is not string -%}
        {{- return(none) -}}
    {%- endif -%}
    {#- the log keeps keys as text (a month end, say, is a date) -#}
    {%- set query -%}
        select passed.gate_checked_at::text
        from (
            select
                min(gate.checked_at) as gate_checked_at,
                min(passed_run.finished_at) as finished_at
            from ops.quality_gate as gate
            inner join (
                select ledger.run_id, ledger.finished_at
                from ops.run_ledger as ledger
                where ledger.task_states ->> 'dbt_build' = 'success'
                order by ledger.finished_at desc nulls last
                limit 1
            ) as passed_run on gate.run_id = passed_run.run_id
        ) as passed
        where passed.gate_checked_at is not null and not exists (
            select 1
            from ops.model_changes as whole
            where
                whole.model = '{{ tested.alias }}'
                and whole.key_value is null
                and whole.logged_at > coalesce(passed.finished_at, passed.gate_checked_at)
        )
    {%- endset -%}
    {%- set found = run_query(query) -%}
    {%- if found.rows | length == 0 -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set night_keys -%}
        select distinct changes.key_value from ops.model_changes as changes
        where changes.model = '{{ tested.alias }}' and changes.logged_at > '{{ found.rows[0][0] }}'::timestamptz
    {%- endset -%}
    {{- return(night_keys) -}}
{%- endmacro %}

{#- Whether a test should look the night's keys up one by one: the types of `columns` of
    `relation` (in their order) when an index without a predicate leads with exactly these
    columns (in any order) and the rows to fetch are few, at most var data_tests_lookup_max_share
    (5 %) of the table (the night's
    keys, `keys_sql`, times the rows per key: the key's statistics when `per_key`, else one row
    each); none otherwise: no index, a table not yet analysed or not there, or a night that
    touched much of it (a back-fill), which one scan of the table reads faster. -#}
{% macro data_tests_lookup_types(relation, columns, keys_sql, per_key=false) -%}
    {%- set names = "array['" ~ columns | join("', '") ~ "']::text[]" -%}
    {%- set query -%}
        with target as (
            select to_regclass(format('%I.%I', '{{ relation.schema }}', '{{ relation.identifier }}')) as oid
        ),

        tested_table as (
            select tables.reltuples
            from pg_class as tables
            inner join target on tables.oid = target.oid
        ),

        typed as (
            select
                count(*) as n_columns,
                string_agg(format_type(a.atttypid, a.atttypmod), '|' order by array_position({{ names }}, a.attname::text))
                    as types
            from pg_attribute as a
            inner join target on a.attrelid = target.oid
            where
                a.attname = any({{ names }})
                and exists (
                    select 1
                    from pg_index as i
                    where
                        i.indrelid = a.attrelid
                        and i.indpred is null
                        and (
                            select array_agg(b.attname::text order by b.attname::text)
                            from pg_attribute as b
                            where
                                b.attrelid = i.indrelid
                                and b.attnum = any((string_to_array(i.indkey::text, ' ')::int2[])[1:{{ columns | length }}])
                        ) = (select array_agg(c order by c) from unnest({{ names }}) as c)
                )
        ),

        rows_per_key as (
            {%- if per_key %}
            select case when stats.n_distinct > 0 then tested_table.reltuples / stats.n_distinct
                    when stats.n_distinct < 0 then -1 / stats.n_distinct end as n_rows
            from pg_stats as stats
            cross join tested_table
            where stats.schemaname = '{{ relation.schema }}' and stats.tablename = '{{ relation.identifier }}'
                and stats.attname = '{{ columns[0] }}'
            {%- else %}
            select 1.0 as n_rows
            {%- endif %}
        )

        select typed.types
        from typed
        cross join tested_table
        where
            typed.n_columns = {{ columns | length }}
            and tested_table.reltuples > 0
            and (select count(*) from ({{ keys_sql }}) as night_keys)
                * coalesce((select rows_per_key.n_rows from rows_per_key limit 1), 1.0)
                <= {{ var('data_tests_lookup_max_share', 0.05) }} * tested_table.reltuples
    {%- endset -%}
    {%- set found = run_query(query) -%}
    {{- return(found.rows[0][0].split('|') if found.rows | length > 0 else none) -}}
{%- endmacro %}
