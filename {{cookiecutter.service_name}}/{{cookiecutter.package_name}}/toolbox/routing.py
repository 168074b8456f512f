"""Where a task message goes, on every connection of every process.

SQS has no exchanges: kombu emulates the topic exchange in memory, and since
kombu 5 that table lives in each connection's transport. A message published on
a connection that has not itself declared the exchange and its bindings is
dropped without a word. So every route carries the full list of queues in
``declare``; Celery then declares them on the publishing connection before the
first message (kombu remembers per connection, so later messages cost nothing).
"""

from celery import signals
from celery.exceptions import QueueNotFound


class TaskRouter:
    """Send a task named ``<queue>.<name>`` to ``<queue>`` and, through the
    ``#`` binding, to the platform queue."""

    def __init__(self, exchange, queues):
        self.exchange = exchange
        self.queues = list(queues)
        self.routing_keys = {q.routing_key for q in self.queues if q.routing_key != "#"}

    def __call__(self, name, args, kwargs, options, task=None, **kw):
        routing_key = name.split(".", 1)[0]
        if routing_key not in self.routing_keys:
            # Published anyway, it would reach only the platform queue and no
            # worker would ever run it: refuse at the call instead.
            raise QueueNotFound(
                f"Task {name!r} routes to queue {routing_key!r}, which is not in QUEUES "
                f"({', '.join(sorted(self.routing_keys))}). Name tasks '<queue>.<name>' and "
                "list every service queue of the platform in QUEUES."
            )
        return {"exchange": self.exchange, "routing_key": routing_key, "declare": self.queues}

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
        properties["MessageGroupId"] = group
