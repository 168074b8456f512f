"""The result backend: a task whose outcome cannot be stored is run again, not lost.

Celery's database backend retries a failed write a few times and then raises.
In a worker that error ends the task as a failure whose own write fails too,
and the message is acknowledged: the platform keeps a ``STARTED`` row for
ever and nobody runs the task again. Here, when the write of a task's state
fails inside the worker process running that task, the task's message is
given back (``Reject(requeue=True)``): SQS delivers it again, with a growing
delay (``sqs.lifecycle.redelivery_delay``), until the database is back or the
message's receives run out and SQS moves it to the dead-letter queue. Either
way it is logged at ERROR with the task id.

A task whose body ran before the write failed runs again when its message
comes back, as after any crash: at-least-once, so tasks must be idempotent.
"""

import logging
from typing import Any

import sqlalchemy
from celery import states
from celery.backends.database import DatabaseBackend, session_cleanup
from celery.exceptions import BackendStoreError, Reject
from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite

from .upstream import current_task, skip_schema_set_up

logger = logging.getLogger(__name__)

#: The databases whose INSERT takes ON CONFLICT DO UPDATE: their results take one statement to store.
UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class ResultBackend(DatabaseBackend):
    """Celery's SQLAlchemy result backend that gives a task back when its state cannot be stored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dialect = sqlalchemy.engine.make_url(self.url).get_backend_name()
        self._upsert_statement: Any = None
        self._upsert_columns: list[str] = []
        if not self.app.conf.database_create_tables_at_setup:
            # Celery would otherwise run CREATE TABLE checks and ALTER TABLE before a process's first
            # write, retrying for seconds when the database is down. The platform owns the schema.
            skip_schema_set_up(self)

    def _store_result(
        self, task_id: str, result: Any, state: str, traceback: Any = None, request: Any = None, **kwargs: Any
    ) -> None:
        """One INSERT ... ON CONFLICT DO UPDATE, where Celery reads the row twice before it writes it.

        The same columns, filled by Celery's own ``_update_result``, and the same
        rule: a row that says SUCCESS is never written over (a task run again
        after a crash keeps its first result).
        """
        statement = self._upsert()
        if statement is None:
            return super()._store_result(task_id, result, state, traceback=traceback, request=request, **kwargs)
        row = self.task_cls(task_id)
        row.task_id = task_id
        self._update_result(row, result, state, traceback=traceback, request=request)
        session = self.ResultSession()
        with session_cleanup(session):
            session.execute(statement, {name: getattr(row, name, None) for name in self._upsert_columns})
            session.commit()
        return None

    def _upsert(self) -> Any:
        """The upsert statement, built once: SQLAlchemy then compiles it once, and each write only binds values."""
        if self._upsert_statement is None and self.dialect in UPSERTS:
            table = self.task_cls.__table__
            columns = [column for column in table.columns if column.name != "id"]
            self._upsert_columns = [column.name for column in columns]
            statement = UPSERTS[self.dialect](table).values(
                {column.name: bindparam(column.name, type_=column.type) for column in columns}
            )
            self._upsert_statement = statement.on_conflict_do_update(
                index_elements=[table.c.task_id],
                set_={name: statement.excluded[name] for name in self._upsert_columns if name != "task_id"},
                where=table.c.status != states.SUCCESS,
            )
        return self._upsert_statement

    def store_result(
        self, task_id: str, result: Any, state: str, traceback: Any = None, request: Any = None, **kwargs: Any
    ) -> Any:
        try:
            return super().store_result(task_id, result, state, traceback=traceback, request=request, **kwargs)
        except Exception as error:
            # BackendStoreError: Celery's own retries of a database error ran out.
            unstored = isinstance(error, BackendStoreError) or self.exception_safe_to_retry(error)
            if not unstored or not running_here(task_id):
                raise
            logger.error(
                "Task %s: could not store its %s state in the result database (%r). Its message goes back to "
                "the queue and the task runs again later; after SQS_MAX_RECEIVE_COUNT receives SQS keeps it in "
                "the queue's dead-letter queue.",
                task_id,
                state,
                error.__cause__ or error,
            )
            raise Reject(f"result of task {task_id} not stored: {error!r}", requeue=True) from error


def running_here(task_id: str) -> bool:
    """Whether this process is running task ``task_id`` from a message it can give back.

    True in the pool process (or thread) tracing the task; False in the
    worker's main process, in a producer and for eager calls, where there is
    no message to give back and the error goes to the caller.
    """
    task = current_task()
    if task is None:
        return False
    request = task.request
    return request.id == task_id and not request.is_eager and request.delivery_info is not None


#: What ``result_backend`` names before its database URL: Celery imports the class by this path.
BACKEND_PATH = f"{__name__}:ResultBackend"
