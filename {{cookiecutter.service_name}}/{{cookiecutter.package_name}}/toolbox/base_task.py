"""A base class for the worker's tasks: one place for success and failure handling."""

from celery import Task


class WorkerTask(Task):
    """The base of every task of this worker: extend its hooks to report outcomes elsewhere.

    Celery already logs every outcome once, with the task id (``succeeded in``,
    ``raised unexpected`` with its traceback), and the result backend records
    it for the platform. Override ``on_success``/``on_failure`` here, calling
    ``super()``, so that bases mixed in after this one still see the outcome.
    """

    def on_success(self, retval, task_id, args, kwargs):
        super().on_success(retval, task_id, args, kwargs)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        super().on_failure(exc, task_id, args, kwargs, einfo)
