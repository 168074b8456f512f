"""Routing state: the app's topic exchange and its bindings, on every channel.

SQS has no exchanges, and kombu 5 keeps its emulated exchange table per
connection, so a message published where nobody declared the exchange is
dropped without a word. Every channel starts out holding the exchange and its
bindings, from the ``topology`` transport option that ``Config`` derives from
``task_queues``: every connection, process and thread, and publishes that
bypass Celery's router.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from kombu.transport import SQS
from kombu.transport.virtual import exchange as virtual_exchange

from ..contract import CATCH_ALL

#: The transport option that carries the exchange and its bindings.
TOPOLOGY_OPTION = "topology"


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


def declare_topology(channel: Any, described: Mapping[str, Any] | None) -> None:
    """Declare the exchange and bindings ``described`` (see ``topology``) on ``channel``, in memory."""
    if not described:
        return
    name = described["exchange"]
    channel.exchange_declare(exchange=name, type=described["type"], durable=True, auto_delete=False)
    for queue, routing_key in described["bindings"]:
        channel.queue_bind(queue, exchange=name, routing_key=routing_key)


def catch_all_queues(described: Mapping[str, Any] | None) -> list[str]:
    """The queues ``described`` binds with ``#``: the platform's, which its own consumer looks after."""
    return [queue for queue, key in (described or {}).get("bindings", []) if key == CATCH_ALL]


class OrderedTopicExchange(virtual_exchange.TopicExchange):
    """kombu's topic exchange, with a fixed order of target queues.

    kombu returns a set, whose order changes from process to process. Here the
    queues bound by their own name come first, in binding order, then the
    catch-all ones: ``[<queue>, platform.fifo]`` for every routing key.
    """

    def lookup(self, table, exchange, routing_key, default):
        own, catch_all = self.targets(table, routing_key)
        return own + catch_all

    def targets(self, table, routing_key):
        """The queues ``routing_key`` reaches: (bound by their own key, bound with ``#``), each in binding order."""
        matched = list(dict.fromkeys(queue for key, pattern, queue in table if self._match(pattern, routing_key)))
        shared = {queue for key, _, queue in table if key == CATCH_ALL}
        return [q for q in matched if q not in shared], [q for q in matched if q in shared]


class TopologyMixin:
    """Declare the app's exchange and bindings on every new channel, in memory.

    Only kombu's in-memory routing table is written: no queue is created and no
    request is made. Any channel class takes it (the conformance suite's
    in-memory broker does too).
    """

    exchange_types = {**SQS.Channel.exchange_types, "topic": OrderedTopicExchange}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        declare_topology(self, self.connection.client.transport_options.get(TOPOLOGY_OPTION))
