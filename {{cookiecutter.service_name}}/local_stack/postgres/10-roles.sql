-- The roles of the platform database. Run by psql as the superuser on the
-- platform database (Postgres' docker-entrypoint-initdb.d, or the test
-- harness); the passwords come from the environment.
\set ON_ERROR_STOP on
\getenv platform_password PLATFORM_DB_PASS
\getenv worker_password RESULT_DB_PASS

-- Owns every table and view, and logs in as nobody: neither service can drop,
-- alter or truncate what the other relies on. Migrations run as it (SET ROLE).
CREATE ROLE cadasta_owner NOLOGIN;
-- The platform (and its sync-tasks process): writes the task tables, reads results.
CREATE ROLE cadasta_platform LOGIN PASSWORD :'platform_password';
-- A worker: reads and writes the result tables, nothing else.
CREATE ROLE cadasta_worker LOGIN PASSWORD :'worker_password';

-- By default every role may connect to every database and make temporary
-- tables in it. Here only the two service roles connect, to this database only.
SELECT format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', datname)
FROM pg_database WHERE datallowconn \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO cadasta_platform, cadasta_worker', current_database()) \gexec

-- Since Postgres 15 only the owner may create in schema public; make sure of
-- it on older servers too. Only the owner creates; the services may look up names.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CREATE, USAGE ON SCHEMA public TO cadasta_owner;
GRANT USAGE ON SCHEMA public TO cadasta_platform, cadasta_worker;
