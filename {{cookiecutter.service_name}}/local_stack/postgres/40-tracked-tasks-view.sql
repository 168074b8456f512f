-- Every task the platform knows of, side by side with its result (either may
-- come first). Results are JSON (the toolbox insists on Celery's json
-- serializer), shown as text: jsonb would refuse some JSON, such as "\u0000",
-- and one such result would break every query of the view.
\set ON_ERROR_STOP on
SET ROLE cadasta_owner;

CREATE VIEW tracked_task AS
SELECT
    task_id,
    t.type,
    t.input,
    t.parent_id,
    t.root_id,
    r.status,
    convert_from(r.result, 'UTF8') AS result,
    r.traceback,
    t.created_at,
    r.date_done
FROM platform_task AS t
FULL OUTER JOIN celery_taskmeta AS r USING (task_id);

-- The view reads the tables with its owner's rights: the platform needs only this.
GRANT SELECT ON tracked_task TO cadasta_platform;

RESET ROLE;
