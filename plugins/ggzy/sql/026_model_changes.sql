-- The change log of the warehouse's per-key incremental models (dbt strategy
-- replace_changed_keys, dbt_project/macros/changed_keys.sql; issue 18): which keys (lots) each
-- build of a model recomputed, so that what reads the model after a night can read the night's
-- keys instead of the whole table (the night's data tests: macros/data_tests_scope.sql).
-- key_value null: the build replaced the whole table (a first build or a full refresh).
-- Written by dbt, pruned by dbt after 90 days (macros/change_log.sql). Idempotent.
create table if not exists ops.model_changes (
    change_id  bigint generated always as identity primary key,
    model      text not null,
    key_value  text,
    logged_at  timestamptz not null default now()
);

create index if not exists model_changes_model_idx on ops.model_changes (model, logged_at);

comment on table ops.model_changes is
    'Keys each build of a per-key incremental dbt model recomputed (null: the whole table); the night''s data tests read these keys.';

-- One row per successful build of such a model: when (the build's transaction start, as
-- model_changes.logged_at), whether it replaced the whole table, and the version of its code and
-- settings (md5 of its file and of the vars its result depends on). A model that reads another
-- per-key model recomputes, on a night, only the keys that model logged since its own last build
-- of the same version (macro changed_keys_since_last_build).
create table if not exists ops.model_builds (
    model      text not null,
    built_at   timestamptz not null default now(),
    whole      boolean not null,
    version    text not null,
    primary key (model, built_at)
);
