-- The two roles of the platform database. Run by psql as the superuser on the
-- platform database (Postgres' docker-entrypoint-initdb.d, or the test
-- harness); the passwords come from the environment.
\set ON_ERROR_STOP on
\getenv platform_password PLATFORM_DB_PASS
\getenv worker_password RESULT_DB_PASS

-- The platform: owns the task table, reads results.
CREATE ROLE cadasta_platform LOGIN PASSWORD :'platform_password';
-- A worker: reads and writes the result tables, nothing else.
CREATE ROLE cadasta_worker LOGIN PASSWORD :'worker_password';

-- Since Postgres 15 only the owner may create in schema public; make sure of
-- it on older servers too, so a worker cannot create tables of its own.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO cadasta_platform, cadasta_worker;
GRANT CREATE ON SCHEMA public TO cadasta_platform;
