{#- The night's data tests look at what the night changed (issue #18), where that is known.

    Every generic data test reads its model through get_where_subquery (dbt-core's
    macros/materializations/tests/where_subquery.sql, overridden here; the test's own `where`
    config still applies first). With --vars '{data_tests_scope: night}' (the nightly DAG's
    dbt_build), a test on an incremental staging model (strategy newest_version) reads only:
      - not_null, columns_not_null, accepted_values, accepted_range, expression_is_true, relationships: the rows
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
    {{- return(['not_null', 'columns_not_null', 'accepted_values', 'accepted_range', 'expression_is_true', 'relationships']) -}}
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
    {%- set passed = data_tests_passed_night() -%}
    {%- if passed is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set rows = '(select * from ' ~ relation ~ (' where ' ~ where if where else '') ~ ')' -%}
    {%- set columns = [kwargs.get('column_name')] if test_name == 'unique' else (kwargs.get('columns') or []) -%}
    {%- if strategy == 'newest_version' -%}
        {%- for dep in tested.depends_on.nodes if dep in graph.sources -%}
            {%- if graph.sources[dep].source_name in passed.redelivered_feeds -%}
                {{- return(none) -}}
            {%- endif -%}
        {%- endfor -%}
        {%- set night -%}night_rows.loaded_at > '{{ passed.loaded_after }}'::timestamptz{%- endset -%}
    {%- else -%}
        {%- set key = tested.config.get('unique_key') -%}
        {%- if not key or key is not string -%}
            {{- return(none) -}}
        {%- endif -%}
        {%- set table = data_tests_night_table(tested, relation, passed) -%}
        {%- if table.replaced_whole -%}
            {{- return(none) -}}
        {%- endif -%}
        {#- the log keeps keys as text (a month end, say, is a date) -#}
        {%- set night_keys -%}
        select distinct changes.key_value from ops.model_changes as changes
        where changes.model = '{{ tested.alias }}' and changes.logged_at > '{{ passed.gate_checked_at }}'::timestamptz
        {%- endset -%}
        {#- a per-key model rewrites all rows of a key together: a duplicate of columns that include
            the key lies within one key, so the night's keys' rows are enough -#}
        {%- if test_name in data_tests_row_tests() or key in columns -%}
            {%- set key_type = data_tests_lookup_types(table, [key], table.night_rows) -%}
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
        {%- set table = data_tests_night_table(tested, relation, passed) -%}
        {%- if nullable | select('in', columns) | list | length == 0
              and data_tests_lookup_types(table, columns, table.night_rows) is not none -%}
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

{#- What the night's tests of one dbt invocation share, read once by the first test that needs
    it and kept for the others (the night's 105 scoped tests ran 198 queries as they compiled,
    three of every four the same): a dict in the graph context, one entry per invocation_id.
    The graph is the one object every node's context shares (dbt-core's flat graph, rebuilt by
    each invocation); the entry of another invocation is dropped. -#}
{% macro data_tests_night_cache() -%}
    {%- set caches = graph.setdefault('ggzy_data_tests_night', {}) -%}
    {%- if invocation_id not in caches -%}
        {%- do caches.clear() -%}
        {%- do caches.update({invocation_id: {'tables': {}}}) -%}
    {%- endif -%}
    {{- return(caches[invocation_id]) -}}
{%- endmacro %}

{#- The last night that passed, read once per invocation from the ledgers the nightly run
    writes (ops.run_ledger, ops.quality_gate; nothing the build itself writes), or none (test
    whole) when no night has passed:
      - gate_checked_at: when the newest run whose dbt_build succeeded began its quality gate;
      - finished_at: when that run finished (its gate's start if not recorded);
      - loaded_after: gate_checked_at less var staging_lookback, as staging's own watermark:
        the night's rows of a staging model are those loaded after it;
      - redelivered_feeds: the feeds a day of which was re-delivered since (raw.batch_events). -#}
{% macro data_tests_passed_night() -%}
    {%- set cache = data_tests_night_cache() -%}
    {%- if 'passed' not in cache -%}
        {%- set lookback -%}interval '{{ var("staging_lookback", "0 seconds") }}'{%- endset -%}
        {%- set query -%}
            with passed_run as (
                select ledger.run_id, ledger.finished_at
                from ops.run_ledger as ledger
                where ledger.task_states ->> 'dbt_build' = 'success'
                order by ledger.finished_at desc nulls last
                limit 1
            ),

            passed as (
                select
                    min(gate.checked_at) as gate_checked_at,
                    min(passed_run.finished_at) as finished_at
                from ops.quality_gate as gate
                inner join passed_run on gate.run_id = passed_run.run_id
            )

            select
                passed.gate_checked_at::text as gate_checked_at,
                coalesce(passed.finished_at, passed.gate_checked_at)::text as finished_at,
                (passed.gate_checked_at - {{ lookback }})::text as loaded_after,
                (
                    select coalesce(json_agg(distinct redelivery.feed), '[]')
                    from raw.batch_events as redelivery
                    where redelivery.event = 'reloaded' and redelivery.at > passed.gate_checked_at - {{ lookback }}
                )::text as redelivered_feeds
            from passed
            where passed.gate_checked_at is not null
        {%- endset -%}
        {%- set found = run_query(query) -%}
        {%- set row = found.rows[0] if found.rows | length > 0 else none -%}
        {%- do cache.update({'passed': none if row is none else {
            'gate_checked_at': row[0], 'finished_at': row[1], 'loaded_after': row[2],
            'redelivered_feeds': fromjson(row[3])}}) -%}
    {%- endif -%}
    {{- return(cache.passed) -}}
{%- endmacro %}

{#- What the night's tests of one model need to know of its table, read once per invocation by
    its first test (after the model's build, which its tests follow; a per-key model's build
    logs its keys):
      - replaced_whole (per-key models): a build replaced the whole table after the passed night
        finished: its tests read whole. A whole replacement within that night (a first build, a
        changed model's full refresh) was tested whole by that night's own tests, by this same
        rule, so the next night needs only its keys (the night after a deploy once read whole
        tables: 12 M pair rows, 44 s of tests at scale 16). A re-delivered day needs no
        exception here: the keys it changes are recomputed, so logged. A whole replacement by
        hand while a night runs, finished before the night's ledger row, counts as that night's:
        nights and builds by hand are not run side by side (docs/architecture.md, operations);
      - night_keys, rows_per_key (per-key models): the keys the builds logged since the passed
        night began its gate (a key replaced then, tested then), and the rows a key has by the
        key's statistics (1 when not analysed);
      - night_rows: the rows of those keys by that estimate; in staging, the rows loaded after
        passed.loaded_after (counted);
      - reltuples, columns (name: type), indexes (those without a predicate, each its columns in
        order; an expression is null). -#}
{% macro data_tests_night_table(tested, relation, passed) -%}
    {%- set cache = data_tests_night_cache() -%}
    {%- if tested.unique_id not in cache.tables -%}
        {%- set per_key = tested.config.get('incremental_strategy') == 'replace_changed_keys' -%}
        {%- set key = tested.config.get('unique_key') -%}
        {%- set query -%}
            with target as (
                select to_regclass(format('%I.%I', '{{ relation.schema }}', '{{ relation.identifier }}')) as oid
            )

            select
                (select tables.reltuples from pg_class as tables where tables.oid = target.oid) as reltuples,
                (
                    select json_object_agg(a.attname, format_type(a.atttypid, a.atttypmod))
                    from pg_attribute as a
                    where a.attrelid = target.oid and a.attnum > 0 and not a.attisdropped
                )::text as columns,
                (
                    select json_agg((
                        select array_agg(b.attname::text order by k.n)
                        from unnest(string_to_array(i.indkey::text, ' ')::int2[]) with ordinality as k (attnum, n)
                        left join pg_attribute as b on b.attrelid = i.indrelid and b.attnum = k.attnum
                    ))
                    from pg_index as i
                    where i.indrelid = target.oid and i.indpred is null
                )::text as indexes,
            {%- if per_key %}
                exists (
                    select 1
                    from ops.model_changes as whole
                    where
                        whole.model = '{{ tested.alias }}'
                        and whole.key_value is null
                        and whole.logged_at > '{{ passed.finished_at }}'::timestamptz
                ) as replaced_whole,
                (
                    select count(distinct changes.key_value)
                    from ops.model_changes as changes
                    where changes.model = '{{ tested.alias }}' and changes.logged_at > '{{ passed.gate_checked_at }}'::timestamptz
                ) as night_keys,
                (
                    select case when stats.n_distinct > 0 then tables.reltuples / stats.n_distinct
                            when stats.n_distinct < 0 then -1 / stats.n_distinct end
                    from pg_stats as stats
                    inner join pg_class as tables on tables.oid = target.oid
                    where stats.schemaname = '{{ relation.schema }}' and stats.tablename = '{{ relation.identifier }}'
                        and stats.attname = '{{ key }}'
                    limit 1
                ) as rows_per_key,
                null::bigint as night_rows
            {%- else %}
                false as replaced_whole,
                null::bigint as night_keys,
                null::float8 as rows_per_key,
                (
                    select count(*) from {{ relation }} as night_rows
                    where night_rows.loaded_at > '{{ passed.loaded_after }}'::timestamptz
                ) as night_rows
            {%- endif %}
            from target
        {%- endset -%}
        {%- set row = run_query(query).rows[0] -%}
        {%- set night_keys = (row[4] or 0) | float -%}
        {%- set rows_per_key = (row[5] or 1) | float -%}
        {%- do cache.tables.update({tested.unique_id: {
            'reltuples': (row[0] or 0) | float, 'columns': fromjson(row[1] or '{}'), 'indexes': fromjson(row[2] or '[]'),
            'replaced_whole': row[3], 'night_keys': night_keys, 'rows_per_key': rows_per_key,
            'night_rows': night_keys * rows_per_key if per_key else (row[6] or 0) | float}}) -%}
    {%- endif -%}
    {{- return(cache.tables[tested.unique_id]) -}}
{%- endmacro %}

{#- Whether a test should look the night's rows up one key at a time: the types of `columns` of
    the tested table (`table`, data_tests_night_table; in their order) when an index without a
    predicate leads with exactly these columns (in any order) and the rows to fetch,
    `n_rows`, are few, at most var data_tests_lookup_max_share (5 %) of the table; none
    otherwise: no index, a table not yet analysed or not there, or a night that touched much of
    it (a back-fill), which one scan of the table reads faster. -#}
{% macro data_tests_lookup_types(table, columns, n_rows) -%}
    {%- if table.reltuples <= 0 or n_rows > var('data_tests_lookup_max_share', 0.05) * table.reltuples
          or columns | reject('in', table.columns) | list | length > 0 -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- for index in table.indexes if (index[:columns | length] | map('string') | sort | list) == (columns | sort | list) -%}
        {%- set types = [] -%}
        {%- for column in columns -%}
            {%- do types.append(table.columns[column]) -%}
        {%- endfor -%}
        {{- return(types) -}}
    {%- endfor -%}
    {{- return(none) -}}
{%- endmacro %}
