-- First start of the compose Postgres: the databases next to the warehouse `ggzy`.
create database airflow;
create database superset;
