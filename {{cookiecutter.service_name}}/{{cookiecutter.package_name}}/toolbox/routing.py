"""Where a task message goes.

A task named ``<queue>.<name>`` is published to the topic exchange with the
routing key ``<queue>``, and so reaches that queue and, through the ``#``
binding, the platform queue. The exchange and its bindings are on every
connection already (see ``sqs/topology.py``).
"""

import hashlib
import re

from celery import signals
from celery.exceptions import QueueNotFound

from .contract import CATCH_ALL


class TaskRouter:
    """Send a task named ``<queue>.<name>`` to ``<queue>`` and, through the
    ``#`` binding, to the platform queue."""

    def __init__(self, exchange, queues):
        self.exchange = exchange
        self.queues = list(queues)
        # Routing key -> queue. Celery reads route["queue"] where a task names no
        # queue of its own: chord_unlock takes the chord body's queue this way.
        self.by_routing_key = {q.routing_key: q for q in self.queues if q.routing_key != CATCH_ALL}

    def __call__(self, name, args, kwargs, options, task=None, **kw):
        routing_key = name.split(".", 1)[0]
        queue = self.by_routing_key.get(routing_key)
        if queue is None:
            # Published anyway, it would reach only the platform queue and no
            # worker would ever run it: refuse at the call instead.
            raise QueueNotFound(
                f"Task {name!r} routes to queue {routing_key!r}, which is not in QUEUES "
                f"({', '.join(sorted(self.by_routing_key))}). Name tasks '<queue>.<name>' and "
                "list every service queue of the platform in QUEUES."
            )
        return {"queue": queue, "exchange": self.exchange, "routing_key": routing_key}

    def __repr__(self):
        return f"TaskRouter(exchange={self.exchange.name!r}, queues={[q.name for q in self.queues]!r})"


@signals.before_task_publish.connect(weak=False, dispatch_uid="cadasta-toolbox-message-group")
def group_messages_by_workflow(headers=None, properties=None, **kwargs):
    """Put each workflow in its own SQS message group.

    kombu puts every message for a FIFO queue in one group unless told
    otherwise, and SQS hands out one group's messages one batch at a time, so
    the platform could ingest tasks only as fast as that. Grouping by root
    task keeps a workflow in order (parents before children) and lets
    workflows pass each other.
    """
    if properties is None or headers is None or "MessageGroupId" in properties:
        return
    group = headers.get("root_id") or headers.get("id")
    if group:
        properties["MessageGroupId"] = message_group_id(group)


#: What SQS takes as a MessageGroupId: 1 to 128 printable ASCII characters, no space.
MESSAGE_GROUP_ID = re.compile(r"^[!-~]{1,128}$")


def message_group_id(task_id):
    """``task_id`` where SQS takes it as a message group id, else a digest of it (one per id)."""
    if MESSAGE_GROUP_ID.match(task_id):
        return task_id
    return hashlib.sha256(task_id.encode("utf-8", "surrogatepass")).hexdigest()
