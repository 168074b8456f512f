"""Every detail of kombu and Celery that the toolbox relies on beyond their documented API.

The toolbox reads their private state only through the functions here, and
extends their classes only where ``DETAILS`` says. Each entry names the
detail, the signature the toolbox calls or overrides it with, and why it is
needed. tests/test_kombu_pins.py walks the table: it checks every signature,
and the behaviour of every detail against the pinned versions, so a kombu or
Celery update that changes one fails there, once, naming it.
"""

import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from celery import _state as celery_state
from celery.app import trace
from celery.app.amqp import Queues
from celery.backends.base import BaseBackend
from celery.backends.database import DatabaseBackend
from celery.backends.database.session import SessionManager
from celery.worker.consumer import Consumer
from celery.worker.request import Request
from kombu.asynchronous.aws.sqs.connection import AsyncSQSConnection
from kombu.transport import SQS, virtual
from kombu.transport.virtual.exchange import TopicExchange


@dataclass(frozen=True)
class Detail:
    """One thing the toolbox relies on: ``owner.attribute``, called or overridden with ``parameters``
    (None for state, or where only its behaviour matters), for the reason ``why``."""

    owner: Any
    attribute: str
    parameters: tuple[str, ...] | None
    why: str

    @property
    def name(self) -> str:
        owner = self.owner
        return f"{getattr(owner, '__module__', '')}.{getattr(owner, '__qualname__', owner.__name__)}.{self.attribute}"

    def signature_problem(self) -> str | None:
        """How the pinned signature differs from the installed one, or None."""
        if self.parameters is None:
            return None
        found = tuple(inspect.signature(getattr(self.owner, self.attribute)).parameters)
        if found[: len(self.parameters)] != self.parameters:
            return f"{self.name} takes {found}; the toolbox relies on {self.parameters} ({self.why})"
        return None


DETAILS = (
    # -- kombu's SQS channel: what the toolbox's channel overrides (toolbox/sqs/) --
    Detail(
        SQS.Channel,
        "_get_from_sqs",
        ("self", "queue_name", "queue_url", "connection", "count", "callback"),
        "receiving.py sets the visibility timeout on every asynchronous receive",
    ),
    Detail(SQS.Channel, "_schedule_queue", ("self", "queue"), "receiving.py waits for a free slot and retries"),
    Detail(
        SQS.Channel,
        "_on_messages_ready",
        ("self", "queue", "qname", "messages"),
        "receiving.py takes a failed receive as data, records liveness (kombu passes URL, name, response)",
    ),
    Detail(SQS.Channel, "asynsqs", ("self", "queue"), "receiving.py makes the asynchronous client that reports"),
    Detail(
        AsyncSQSConnection,
        "receive_message",
        ("self", "queue", "queue_url", "number_messages", "visibility_timeout"),
        "receiving.py sets the visibility timeout of every receive",
    ),
    Detail(
        AsyncSQSConnection,
        "_on_list_ready",
        ("self", "parent", "markers", "operation", "response"),
        "receiving.py turns an error response into data instead of an exception in the event loop",
    ),
    Detail(
        SQS.Channel,
        "new_sqs_client",
        ("self", "region", "access_key_id", "secret_access_key", "session_token"),
        "receiving.py hooks the blocking receive (ConsumerMixin) for visibility and liveness",
    ),
    Detail(
        SQS.Channel,
        "_new_boto_client",
        ("self", "service", "region", "access_key_id", "secret_access_key", "session_token", "config"),
        "lifecycle.py's threads share a client with short timeouts",
    ),
    Detail(SQS.Channel, "_get", ("self", "queue"), "queues.py creates a lost queue again"),
    Detail(SQS.Channel, "_get_bulk", ("self", "queue"), "queues.py creates a lost queue again"),
    Detail(SQS.Channel, "_put", ("self", "queue", "message"), "publishing.py sends each copy; queues.py re-creates"),
    Detail(SQS.Channel, "_create_queue", ("self", "queue_name", "attributes"), "queues.py adds a dead-letter queue"),
    Detail(SQS.Channel, "_new_queue", ("self", "queue"), "queues.py looks a queue's URL up, creating it"),
    Detail(SQS.Channel, "canonical_queue_name", ("self", "queue_name"), "queues.py: a queue's name in SQS"),
    Detail(SQS.Channel, "queue_declare", ("self", "queue", "passive"), "queues.py declares without counting"),
    Detail(SQS.Channel, "_queue_cache", None, "queues.py forgets the URL of a queue gone from SQS"),
    Detail(SQS.Channel, "_restore", ("self", "message"), "lifecycle.py gives a message back to its own queue"),
    Detail(
        SQS.Channel,
        "basic_reject",
        ("self", "delivery_tag", "requeue"),
        "a rejected message is left for SQS to dead-letter where its queue has a redrive policy, deleted elsewhere",
    ),
    Detail(SQS.Channel, "_asynsqs", None, "receiving.py: the channel's asynchronous client, made once"),
    Detail(SQS.Channel, "_active_queues", None, "receiving.py: the queues the channel consumes"),
    Detail(SQS.Channel, "get_message_attributes", None, "lifecycle.py reads ApproximateReceiveCount"),
    Detail(
        SQS.Channel,
        "_update_queue_cache",
        ("self", "queue_name_prefix"),
        "queues.py finds a queue by GetQueueUrl, not ListQueues; kombu calls it with the prefix when a channel opens",
    ),
    # -- kombu's in-memory exchanges and QoS -------------------------------------
    Detail(virtual.Channel, "exchange_types", None, "topology.py: the channel instantiates its types from here"),
    Detail(TopicExchange, "lookup", ("self", "table", "exchange", "routing_key", "default"), "topology.py orders"),
    Detail(TopicExchange, "deliver", ("self", "message", "exchange", "routing_key"), "publishing.py sends copies"),
    Detail(TopicExchange, "_match", ("self", "pattern", "string"), "topology.py matches routing keys"),
    Detail(virtual.QoS, "_delivered", None, "lifecycle.py renews what is delivered and not finished"),
    Detail(virtual.QoS, "_dirty", None, "lifecycle.py skips what is finished but not yet flushed"),
    Detail(virtual.QoS, "reject", ("self", "delivery_tag", "requeue"), "requeue restores through _restore"),
    Detail(virtual.Channel, "_qos", None, "channel.py reads the QoS from the renewing thread without making one"),
    Detail(virtual.Channel, "basic_ack", ("self", "delivery_tag"), "lifecycle.py: QoS bookkeeping without a delete"),
    Detail(virtual.BrokerState, "exchanges", None, "each connection holds its own exchange table (kombu 5)"),
    # -- Celery --------------------------------------------------------------------
    Detail(celery_state, "get_current_task", (), "results.py: is this process running the task?"),
    Detail(Queues, "_consume_from", None, "setup.py: whether -Q chose the queues"),
    Detail(SessionManager, "prepared", None, "results.py: the worker's role may not create or alter tables"),
    Detail(
        DatabaseBackend,
        "_update_result",
        ("self", "task", "result", "state", "traceback", "request"),
        "results.py fills Celery's columns for its one-statement upsert",
    ),
    Detail(
        DatabaseBackend,
        "_store_result",
        ("self", "task_id", "result", "state", "traceback", "request"),
        "results.py stores a state in one statement",
    ),
    Detail(BaseBackend, "fallback_chord_unlock", ("self", "header_result", "body"), "routing.py: route['queue']"),
    Detail(
        BaseBackend,
        "chord_error_from_stack",
        ("self", "callback", "exc"),
        "canvas.py links errbacks to a chord's body (behaviour pinned by tests/e2e/test_canvas.py)",
    ),
    Detail(trace, "build_tracer", ("name", "task"), "results.py: a Reject from storing leaves the tracer"),
    Detail(Request, "on_failure", ("self", "exc_info", "send_failed_event", "return_ok"), "Reject requeues"),
    Detail(Consumer, "create_task_handler", ("self",), "consumer.py refuses messages without an id"),
    Detail(Consumer, "on_decode_error", ("self", "message", "exc"), "consumer.py keeps what does not decode"),
    Detail(Consumer, "on_unknown_message", ("self", "body", "message"), "consumer.py keeps what is not a task"),
)


# -- Reading kombu's state ---------------------------------------------------------
def sqs_delivery(message: Any) -> tuple[str, dict] | None:
    """(queue URL, SQS message) of a message kombu's SQS channel delivered, or None for another transport's."""
    info = message.delivery_info
    sqs_message = info.get("sqs_message")
    return (info["sqs_queue"], sqs_message) if sqs_message else None


def unfinished_deliveries(qos: Any) -> Iterator[Any]:
    """The messages a channel delivered that are neither acknowledged nor rejected.

    Safe from another thread: the copies are atomic under the GIL while the
    event loop adds and removes. Finished deliveries stay in ``_delivered``,
    marked dirty, until the next one arrives.
    """
    if qos is None:
        return
    finished = qos._dirty.copy()
    for tag, message in qos._delivered.copy().items():
        if tag not in finished:
            yield message


def forget_delivery(channel: Any, delivery_tag: Any) -> None:
    """Free a delivery's slot in the channel's QoS without kombu's DeleteMessage (the toolbox deletes in batches)."""
    virtual.Channel.basic_ack(channel, delivery_tag)


def queue_urls(channel: Any) -> dict:
    """The channel's memory of queue URLs by SQS name (kombu keeps it for the connection's life)."""
    return channel._queue_cache


def new_boto_client(channel: Any, config: Any) -> Any:
    """An SQS client with the channel's region and credentials and botocore ``config``."""
    return channel._new_boto_client(
        service="sqs",
        region=channel.region,
        access_key_id=channel.conninfo.userid,
        secret_access_key=channel.conninfo.password,
        config=config,
    )


# -- Reading Celery's state --------------------------------------------------------
def current_task() -> Any:
    """The task this process or thread is running, or None."""
    return celery_state.get_current_task()


def queues_chosen_on_command_line(queues: Queues) -> bool:
    """Whether ``-Q`` (or anything else) chose the queues to consume; Celery keeps no public record."""
    return queues._consume_from is not None


def choose_queues(queues: Queues, names: list[str]) -> None:
    """Consume exactly ``names`` (as ``-Q`` would)."""
    queues._consume_from = {}
    queues.select(names)


def skip_schema_set_up(backend: DatabaseBackend) -> None:
    """Never create or alter tables from this process: the platform owns the schema."""
    backend.session_manager.prepared = True
