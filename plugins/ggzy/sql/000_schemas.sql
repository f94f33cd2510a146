-- Schemas in the order data flows: raw -> staging -> intermediate -> marts -> outputs.
create schema if not exists raw;           -- feeds as delivered, plus load metadata and quarantine
create schema if not exists ops;           -- run ledger, alert lifecycle, publication log
create schema if not exists staging;       -- dbt: one view per feed file, newest version per key
create schema if not exists intermediate;  -- dbt: joins and re-graining
create schema if not exists marts;         -- dbt: facts and dimensions for analysts and Superset
create schema if not exists sampling;      -- 双随机一公开 draws, stored immutably
create schema if not exists disclosure;    -- public tables (no personal data)
create schema if not exists analyst;       -- masked views of personal data for analysts
