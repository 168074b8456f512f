-- The result tables Celery's database backend writes (celery 5.7's models,
-- extended columns included so result_extended can be turned on; bigint ids,
-- which Celery's integer columns read as well, so they never run out). No foreign
-- key to platform_task: a result may be stored before its task row exists.
\set ON_ERROR_STOP on
SET ROLE cadasta_owner;

CREATE SEQUENCE task_id_sequence;
CREATE TABLE celery_taskmeta (
    id bigint PRIMARY KEY DEFAULT nextval('task_id_sequence'),
    task_id varchar(155) UNIQUE,
    status varchar(50),
    result bytea,
    date_done timestamp without time zone,
    traceback text,
    children bytea,
    name varchar(155),
    args bytea,
    kwargs bytea,
    worker varchar(155),
    retries integer,
    queue varchar(155),
    stamps bytea
);
ALTER SEQUENCE task_id_sequence OWNED BY celery_taskmeta.id;
CREATE INDEX ix_celery_taskmeta_date_done ON celery_taskmeta (date_done);

CREATE SEQUENCE taskset_id_sequence;
CREATE TABLE celery_tasksetmeta (
    id bigint PRIMARY KEY DEFAULT nextval('taskset_id_sequence'),
    taskset_id varchar(155) UNIQUE,
    result bytea,
    date_done timestamp without time zone
);
ALTER SEQUENCE taskset_id_sequence OWNED BY celery_tasksetmeta.id;
CREATE INDEX ix_celery_tasksetmeta_date_done ON celery_tasksetmeta (date_done);

-- The worker's role: these tables and their sequences, and nothing else.
-- SELECT and UPDATE: Celery reads a task's row before it writes it again;
-- DELETE: its celery.backend_cleanup task removes expired results.
GRANT SELECT, INSERT, UPDATE, DELETE ON celery_taskmeta, celery_tasksetmeta TO cadasta_worker;
GRANT USAGE, SELECT ON SEQUENCE task_id_sequence, taskset_id_sequence TO cadasta_worker;
-- The platform reads results, and changes none.
GRANT SELECT ON celery_taskmeta, celery_tasksetmeta TO cadasta_platform;

RESET ROLE;
