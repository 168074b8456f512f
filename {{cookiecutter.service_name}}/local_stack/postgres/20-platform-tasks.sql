-- The platform's task table: one row per task any service scheduled, written
-- by the sync-tasks process from the copies of task messages in platform.fifo.
\set ON_ERROR_STOP on
SET ROLE cadasta_owner;

CREATE TABLE platform_task (
    id bigserial PRIMARY KEY,
    task_id varchar(155) NOT NULL UNIQUE,
    type varchar(255) NOT NULL,
    input jsonb NOT NULL,               -- the arguments: an object with "args" (a list) and "kwargs"
    options jsonb NOT NULL,             -- message properties plus eta, expires, retries, timelimit
    -- Task ids, not foreign keys: a child's message may arrive before its parent's.
    parent_id varchar(155),
    root_id varchar(155),
    creator_id varchar(255),
    related_content_type varchar(255),
    related_object_id varchar(255),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX platform_task_parent_id ON platform_task (parent_id);
CREATE INDEX platform_task_root_id ON platform_task (root_id);

-- Messages sync-tasks could not read as tasks, kept for someone to look at.
CREATE TABLE platform_undecodable_message (
    id bigserial PRIMARY KEY,
    message_id varchar(255),
    body text NOT NULL,
    error text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- The platform reads and writes its tasks (the sync-tasks process inserts
-- them). No worker may see them.
GRANT SELECT, INSERT, UPDATE, DELETE ON platform_task, platform_undecodable_message TO cadasta_platform;
GRANT USAGE ON SEQUENCE platform_task_id_seq, platform_undecodable_message_id_seq TO cadasta_platform;

RESET ROLE;
