"""The one place where the toolbox changes kombu's SQS transport.

SQS has no exchanges: kombu emulates the topic exchange in memory, and since
kombu 5 that table belongs to each connection's transport. A message published
on a connection where nobody declared the exchange and its bindings is dropped
without a word. So every channel of this transport starts out holding the
exchange and every binding, read from the ``topology`` transport option that
``Config`` derives from ``task_queues``. That covers every connection an app
opens, in every process and thread, and publishes that bypass Celery's router
(a kombu producer, a requeue from a consumer).

What this relies on in kombu is pinned by tests/test_kombu_pins.py: a kombu
update that changes it fails there, not silently in production.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from kombu.transport import SQS
from kombu.transport.virtual import exchange as virtual_exchange

#: The transport option that carries the exchange and its bindings.
TOPOLOGY_OPTION = "topology"
#: The routing key that binds a queue to every message: the platform queue's.
CATCH_ALL = "#"


def topology(exchange: Any, queues: Iterable[Any]) -> dict[str, Any]:
    """The ``topology`` transport option for ``exchange`` and its ``queues`` (kombu objects).

    Plain data, so it can be logged and compared: the exchange's name and type,
    and one ``[queue, routing key]`` pair per binding.
    """
    return {
        "exchange": exchange.name,
        "type": exchange.type,
        "bindings": [[queue.name, queue.routing_key] for queue in queues],
    }


class OrderedTopicExchange(virtual_exchange.TopicExchange):
    """kombu's topic exchange, with a fixed order of target queues.

    kombu returns a set, whose order changes from process to process. Here the
    queues bound by their own name come first, in binding order, then the
    catch-all ones: ``[<queue>, platform.fifo]`` for every routing key.
    """

    def lookup(self, table, exchange, routing_key, default):
        matched = [queue for key, pattern, queue in table if self._match(pattern, routing_key)]
        ordered = [q for q in matched if not _is_catch_all(table, q)] + [q for q in matched if _is_catch_all(table, q)]
        return list(dict.fromkeys(ordered))


def _is_catch_all(table, queue):
    return any(key == CATCH_ALL and bound == queue for key, _, bound in table)


class TopologyMixin:
    """Declare the app's exchange and bindings on every new channel, in memory.

    Only kombu's in-memory routing table is written: no queue is created and no
    request is made. Creating the queues in SQS is ``setup_app``'s job, and any
    publish creates a missing target queue itself.
    """

    exchange_types = {**SQS.Channel.exchange_types, "topic": OrderedTopicExchange}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        declare_topology(self, self.connection.client.transport_options.get(TOPOLOGY_OPTION))


def declare_topology(channel: Any, described: Mapping[str, Any] | None) -> None:
    """Declare the exchange and bindings ``described`` (see ``topology``) on ``channel``."""
    if not described:
        return
    name = described["exchange"]
    channel.exchange_declare(exchange=name, type=described["type"], durable=True, auto_delete=False)
    for queue, routing_key in described["bindings"]:
        channel.queue_bind(queue, exchange=name, routing_key=routing_key)


class Channel(TopologyMixin, SQS.Channel):
    pass


class Transport(SQS.Transport):
    """kombu's SQS transport, whose every channel holds the app's topic exchange."""

    Channel = Channel


#: What ``broker_transport`` names: kombu imports it by this path.
TRANSPORT_PATH = f"{__name__}:Transport"
