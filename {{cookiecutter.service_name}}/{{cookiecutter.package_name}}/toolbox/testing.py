"""Test what a task sends, without a broker: ``capture_sends`` (tests/conftest.py makes it the ``sent_tasks`` fixture).

Every task Celery would publish goes through ``app.send_task``: a task's
``delay``/``apply_async``, a signature's, a chain's first step, a chord's
header and its ``chord_unlock``, a task sent by name to another service. Here
each is recorded instead, routed as the worker would route it (a name whose
queue is not in QUEUES raises ``QueueNotFound`` as a real send does), and
nothing reaches SQS.
"""

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from celery.utils import uuid


@dataclass
class SentTask:
    """One task as it would have been published."""

    name: str
    id: str
    args: tuple
    kwargs: dict
    #: The queue it lands in (besides the platform's): the toolbox binds each queue by its own name, so the one
    #: its routing key names. (Celery's route may carry another queue: chord_unlock's names its chord's body's.)
    queue: str
    #: Signatures Celery calls when it succeeds (``link``) or fails (``link_error``), as dicts.
    callbacks: list = field(default_factory=list)
    errbacks: list = field(default_factory=list)
    #: The rest of its chain, in the order Celery keeps it (last step first), as dicts.
    chain: list = field(default_factory=list)
    #: The body of the chord it is a header member of, as a dict; None if it is not one.
    chord: Any = None
    options: dict = field(default_factory=dict)

    @property
    def next_steps(self) -> list[str]:
        """The task names of the rest of its chain, in the order they will run."""
        return [step["task"] for step in reversed(self.chain)]


class SentTasks(list):
    """The tasks sent so far, in order; ``named(name)`` picks those of one task."""

    def named(self, name: str) -> list[SentTask]:
        return [task for task in self if task.name == name]

    def to(self, queue: str) -> list[SentTask]:
        return [task for task in self if task.queue == queue]


@contextlib.contextmanager
def capture_sends(app: Any) -> Iterator[SentTasks]:
    """Within the block, record every task ``app`` would send instead of sending it."""
    sent = SentTasks()

    def send_task(name, args=None, kwargs=None, task_id=None, link=None, link_error=None, chain=None, **options):
        route = app.amqp.router.route(dict(options), name, args, kwargs)
        task_id = task_id or uuid()
        sent.append(
            SentTask(
                name=name,
                id=task_id,
                args=tuple(args or ()),
                kwargs=dict(kwargs or {}),
                queue=route["routing_key"],
                callbacks=[dict(s) for s in as_list(link)],
                errbacks=[dict(s) for s in as_list(link_error)],
                chain=[dict(s) for s in chain or ()],
                chord=options.get("chord"),
                options=options,
            )
        )
        return (options.get("result_cls") or app.AsyncResult)(task_id)

    original = app.send_task
    app.send_task = send_task
    try:
        yield sent
    finally:
        app.send_task = original


def as_list(signatures: Any) -> list:
    if signatures is None:
        return []
    return list(signatures) if isinstance(signatures, (list, tuple)) else [signatures]
