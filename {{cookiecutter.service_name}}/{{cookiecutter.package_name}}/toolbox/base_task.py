"""A base class for the worker's tasks: one place for success and failure handling."""

import logging

from celery import Task

logger = logging.getLogger(__name__)


class WorkerTask(Task):
    """Logs every outcome with the task id, so a failure is never silent.

    Subclass it and extend ``on_success``/``on_failure`` (calling ``super()``)
    to report outcomes elsewhere; the result backend already records them
    for the platform.
    """

    def on_success(self, retval, task_id, args, kwargs):
        logger.info("Task %s[%s] succeeded", self.name, task_id)
        super().on_success(retval, task_id, args, kwargs)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        logger.error("Task %s[%s] failed: %r", self.name, task_id, exc, exc_info=(type(exc), exc, exc.__traceback__))
        super().on_failure(exc, task_id, args, kwargs, einfo)
