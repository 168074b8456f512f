"""The worker's tasks. Keep them thin: each calls a service function.

A task's name starts with the queue it runs on (`<queue>.<name>`): the toolbox
routes by that prefix, so other services can send it by name alone.
"""

from . import services
from .celery import app
from .toolbox import WorkerTask


@app.task(base=WorkerTask, name="{{ (cookiecutter.queues | queue_list)[0] }}.count_words")
def count_words(text):
    return services.count_words(text)
