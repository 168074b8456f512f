"""The toolbox's SQS seam: where the toolbox changes kombu's SQS transport, one concern per module.

    topology.py    the app's exchange and bindings on every channel (routing state)
    publishing.py  both copies of a task or a loud error; size limits before sending
    receiving.py   a consuming loop that survives failed receives; liveness for the heartbeat
    lifecycle.py   a message's life once received: held, renewed, acknowledged, rejected, given back
    queues.py      dead-letter queues; queues that went away are created again
    channel.py     kombu's channel with the above mixed in, and the transport
    quotas.py      SQS's limits, named once

Extension points, for a worker's own subclass (name it in ``broker_transport``):
``Channel.Lifecycle`` (how a received message is held, deleted, given back),
``lifecycle.redelivery_delay`` (the give-back rule), ``QueuesMixin._redrive_policy``
(what a work queue's dead-letter queue looks like), ``DeliveringTopicExchange.deliver``
(the order and checks of a publish). Every private kombu or Celery detail these
rely on goes through ``toolbox/upstream.py``, which lists them.

Threads: kombu's channel belongs to the thread that consumes (the worker's
event loop; the sync-tasks stub's loop); everything on ``Channel`` runs there,
save ``held_messages``, which the renewing thread reads (it only copies kombu's
QoS state, atomic under the GIL). ``MessageLifecycle`` runs two threads of its
own, deleting and renewing, which share one SQS client with short timeouts; no
other state crosses threads.
"""

from .channel import Channel, Transport

__all__ = ["Channel", "Transport"]
