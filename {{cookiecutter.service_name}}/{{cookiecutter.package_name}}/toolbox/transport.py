"""The one place where the toolbox changes kombu's SQS transport.

- Routing state: SQS has no exchanges, and kombu 5 keeps its emulated topic
  exchange per connection, so a message published where nobody declared the
  exchange is dropped without a word. Every channel here starts out holding
  the exchange and its bindings, from the ``topology`` transport option that
  ``Config`` derives from ``task_queues``: every connection, process and
  thread, and publishes that bypass Celery's router.
- Publishing: the platform's copy first, every copy checked against its
  queue's size limit before any is sent, a loud error naming what was sent
  (``DeliveringTopicExchange``).
- Visibility: every receive sets the timeout, and held messages are renewed
  (``VisibilityKeeper``); a requeued message goes back to its own queue only.
- Dead letters: every work queue gets ``<name>-dlq`` when it is created.
- Outages: a failed receive is logged and retried instead of ending the
  consuming loop, a queue gone from SQS is created again, and the channel
  records when its loop last did its job (``is_consuming``, for the heartbeat).

What this relies on in kombu is pinned by tests/test_kombu_pins.py: a kombu
update that changes it fails there, not silently in production.
"""

import json
import logging
import queue as queue_module
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from kombu.asynchronous.aws.sqs.connection import AsyncSQSConnection
from kombu.asynchronous.aws.sqs.message import AsyncMessage
from kombu.transport import SQS, virtual
from kombu.transport.virtual import exchange as virtual_exchange
from kombu.utils.json import dumps

logger = logging.getLogger(__name__)

#: The transport option that carries the exchange and its bindings.
TOPOLOGY_OPTION = "topology"
#: The transport option that asks for dead-letter queues: {"max_receive_count": N}.
DEAD_LETTER_OPTION = "dead_letter"
#: The routing key that binds a queue to every message: the platform queue's.
CATCH_ALL = "#"
DEAD_LETTER_SUFFIXES = ("-dlq", "-dlq.fifo")
#: Dead letters wait for someone to look at them as long as SQS keeps anything: 14 days.
MAX_RETENTION_SECONDS = 1209600
#: SQS's MaximumMessageSize where a queue does not say (its current default).
DEFAULT_MAX_MESSAGE_BYTES = 1048576
#: Seconds before a message given back (requeued, or held at shutdown) is delivered again,
#: the first time; each further receive waits REDELIVERY_GROWTH times longer, up to
#: MAX_REDELIVERY_DELAY. So a cause that lasts (a result database down) meets a slower retry
#: and the receives allowed before dead-lettering span minutes, not seconds.
REDELIVERY_DELAY = 1
REDELIVERY_GROWTH = 4
MAX_REDELIVERY_DELAY = 300
#: Seconds a consuming loop may go past a long poll without a receive before it counts as stuck.
CONSUMING_SLACK = 10
#: Seconds after which a queue waiting for a free slot looks again, should no acknowledgement wake it.
SLOT_RECHECK_INTERVAL = 0.25
#: Seconds between attempts to poll again after a receive failed (broker down, queue being re-created).
RECEIVE_RETRY_INTERVAL = 2
#: How SQS says a queue does not exist: the JSON protocol's code, and the query protocol's.
MISSING_QUEUE_CODES = {"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"}
#: Seconds the deleting thread waits for more acknowledgements to share a DeleteMessageBatch (ten
#: fill one sooner). Longer means fewer requests; a worker killed meanwhile runs those tasks again.
DELETE_LINGER = 0.05
#: Seconds a closing channel waits for the deletes still waiting.
DELETE_STOP_TIMEOUT = 10
#: ChangeMessageVisibilityBatch (and DeleteMessageBatch) take at most this many messages.
VISIBILITY_BATCH = 10
#: For calls beside the event loop: a broker that does not answer must not hold them for minutes.
SHORT_TIMEOUTS = BotoConfig(connect_timeout=5, read_timeout=5, retries={"total_max_attempts": 2})


class PublishError(Exception):
    """A task message did not reach every queue it is bound for."""


class MessageTooLargeError(PublishError):
    """Refused before anything was sent: the message is larger than a target queue takes."""


class PartialPublishError(PublishError):
    """Some copies of the message were sent and another was not."""

    def __init__(self, task_id, sent, failed, error):
        self.task_id, self.sent, self.failed = task_id, list(sent), failed
        super().__init__(
            f"Task {task_id}: sent to {', '.join(sent)}, but not to {failed} ({error!r}). The platform tracks it "
            "but no worker will run it: send it again with the same task id (the platform keeps one row per id)."
        )


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
        own, catch_all = self.targets(table, routing_key)
        return own + catch_all

    def targets(self, table, routing_key):
        """The queues ``routing_key`` reaches: (bound by their own key, bound with ``#``), each in binding order."""
        matched = list(dict.fromkeys(queue for key, pattern, queue in table if self._match(pattern, routing_key)))
        shared = {queue for key, _, queue in table if key == CATCH_ALL}
        return [q for q in matched if q not in shared], [q for q in matched if q in shared]


class DeliveringTopicExchange(OrderedTopicExchange):
    """Both copies of a task, or a loud error that says which were sent.

    kombu sends one copy per bound queue, one after the other, in no fixed
    order, and stops at the first failure. Here every copy is checked against
    its queue's size limit before anything is sent; then the platform's copy
    goes first, so a task that runs is always tracked, and a failure after it
    names what was sent. Re-sending with the same task id is safe: the platform
    keeps one row per task id.
    """

    def deliver(self, message, exchange, routing_key, **kwargs):
        channel = self.channel
        if exchange != (channel.transport_options.get(TOPOLOGY_OPTION) or {}).get("exchange"):
            return super().deliver(message, exchange, routing_key, **kwargs)  # not the task exchange: kombu's way
        own, catch_all = self.targets(channel.get_table(exchange), routing_key)
        targets = [q for q in catch_all + own if q != channel.deadletter_queue]  # the platform's copy first
        task_id = (message.get("headers") or {}).get("id")
        if not targets:
            logger.error("Task %s: no queue is bound to %r on %r; nothing was sent.", task_id, routing_key, exchange)
            raise PublishError(f"Task {task_id}: no queue is bound to routing key {routing_key!r} on {exchange!r}.")
        size = channel.encoded_size(message)
        too_large = {queue: limit for queue in targets if size > (limit := channel.size_limit(queue))}
        if too_large:
            limits = ", ".join(f"{queue} takes {limit}" for queue, limit in too_large.items())
            raise MessageTooLargeError(
                f"Task {task_id}: its message is {size} bytes; {limits}. Nothing was sent. "
                "Pass large data by reference (an object store key, a database id), not in the arguments."
            )
        sent = []
        for queue in targets:
            try:
                channel._put(queue, message, **kwargs)
            except Exception as error:
                if not sent:
                    raise  # nothing sent: the caller (or kombu's retry) may simply try again
                logger.error("Task %s: sent to %s but not to %s: %r", task_id, ", ".join(sent), queue, error)
                raise PartialPublishError(task_id, sent, queue, error) from error
            sent.append(queue)


#: The key under which ``ReportingAsyncSQSConnection`` hands a failed receive to the channel.
RECEIVE_FAILURE = "ReceiveFailure"


class ReportingAsyncSQSConnection(AsyncSQSConnection):
    """kombu's asynchronous SQS client, whose failed receives come back as data, never as an exception.

    kombu raises an error response into the event loop, which ends the
    consuming loop, and turns a timeout into a list. Here both arrive at
    ``Channel._on_messages_ready`` as ``{RECEIVE_FAILURE: "<what went wrong>"}``.
    """

    def _on_list_ready(self, parent, markers, operation, response):
        if response.status == self.STATUS_CODE_OK:
            return super()._on_list_ready(parent, markers, operation, response)
        body = response.read() or b""
        text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
        return {RECEIVE_FAILURE: f"HTTP {response.status} {response.reason} {text[:300]}".strip()}


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
    """kombu's SQS channel, with the toolbox's routing state, delivery and visibility rules."""

    exchange_types = {**TopologyMixin.exchange_types, "topic": DeliveringTopicExchange}

    def __init__(self, *args, **kwargs):
        self._visibility = None
        self._deleter = None
        self._background_client = None
        self._size_limits = {}  # queue URL -> MaximumMessageSize
        self._receive_failures = 0
        self._waiting_for_slot = set()  # queues whose receive loop waits for a free prefetch slot
        #: time.monotonic() when the consuming loop last received from SQS, or chose not to (every slot
        #: busy); None until it first has.
        self.alive_at = None
        self.created_at = time.monotonic()
        super().__init__(*args, **kwargs)

    # -- Receiving: every receive sets the visibility timeout itself, so a queue
    # created elsewhere with another timeout still gives a crashed consumer's
    # messages back within this one.
    def _get_from_sqs(self, queue_name, queue_url, connection, count=1, callback=None):
        return connection.receive_message(
            queue_name,
            queue_url,
            number_messages=count,
            visibility_timeout=self.visibility_timeout,
            wait_time_seconds=self.wait_time_seconds,
            callback=callback,
        )

    def asynsqs(self, queue=None):
        if self._asynsqs is None and not self.predefined_queues:
            attributes = self.get_message_attributes
            self._asynsqs = ReportingAsyncSQSConnection(
                sqs_connection=self.sqs(queue=queue),
                region=self.region,
                message_system_attribute_names=attributes.get("MessageSystemAttributeNames"),
                message_attribute_names=attributes.get("MessageAttributeNames"),
            )
        return super().asynsqs(queue)

    # -- The consuming loop: kombu's stops for good at the first failed receive
    # (an error response raises into the event loop, a timeout arrives as a list
    # where a dict is expected, a lost queue fails every poll). Here a failed
    # receive is logged and retried, a lost queue is created again, and
    # ``alive_at`` records when the loop last did its job, for the heartbeat.
    def _schedule_queue(self, queue):
        try:
            if queue in self._active_queues and not self.qos.can_consume():
                # Every slot busy: not polling is the job. kombu would look again after polling_interval
                # (a second); here the queue waits for the next acknowledgement (slot_freed), with a timer
                # as a safety net. A queue waits at most once, so it never has two receive loops.
                self.alive_at = time.monotonic()
                if queue not in self._waiting_for_slot:
                    self._waiting_for_slot.add(queue)
                    self.hub.call_later(SLOT_RECHECK_INTERVAL, self._wake, queue)
                return
            super()._schedule_queue(queue)
        except Exception as error:
            self.receive_failed(queue, error)
            self.hub.call_later(RECEIVE_RETRY_INTERVAL, self._schedule_queue, queue)

    def _wake(self, queue):
        if queue in self._waiting_for_slot:
            self._waiting_for_slot.discard(queue)
            self._schedule_queue(queue)

    def slot_freed(self):
        """A delivery was acknowledged or rejected: let the queues waiting for a slot poll now."""
        if self.hub is not None:
            for queue in list(self._waiting_for_slot):
                self.hub.call_soon(self._wake, queue)

    def basic_ack(self, delivery_tag, multiple=False):
        """Free the slot now and delete the message from SQS in the background, in batches.

        kombu deletes each message with a request of its own, in the event loop.
        The task has finished either way; a delete that fails leaves the message
        to come back after its visibility timeout (at least once, as after a crash).
        """
        try:
            info = self.qos.get(delivery_tag).delivery_info
            message, url = info["sqs_message"], info["sqs_queue"]
        except KeyError:
            super().basic_ack(delivery_tag, multiple=multiple)
        else:
            self.deleter().add(url, message)
            virtual.Channel.basic_ack(self, delivery_tag)  # the QoS bookkeeping alone
        finally:
            self.slot_freed()

    def basic_reject(self, delivery_tag, requeue=False):
        try:
            return super().basic_reject(delivery_tag, requeue=requeue)
        finally:
            self.slot_freed()

    def _on_messages_ready(self, queue_url, queue, response):
        failure = response.get(RECEIVE_FAILURE) if isinstance(response, dict) else "no response"
        if failure:
            self.receive_failed(queue, failure)
            if is_missing_queue_text(failure):
                self.forget_queue(queue)  # the next poll creates it again, with its dead-letter queue
            return 0
        self.alive_at = time.monotonic()
        if self._receive_failures:
            logger.info("Receiving from %s again after %d failed attempts.", queue, self._receive_failures)
            self._receive_failures = 0
        return super()._on_messages_ready(queue_url, queue, response)

    def receive_failed(self, queue, reason):
        """Log a failed receive: the first at ERROR, then every tenth, so an outage is seen but not flooded."""
        if self._receive_failures % 10 == 0:
            logger.error(
                "Cannot receive from SQS queue %s (attempt %d): %s. Polling again until it answers.",
                self.canonical_queue_name(queue),
                self._receive_failures + 1,
                reason,
            )
        self._receive_failures += 1

    def new_sqs_client(self, region, access_key_id, secret_access_key, session_token=None):
        client = super().new_sqs_client(region, access_key_id, secret_access_key, session_token)
        # The blocking path (kombu's ConsumerMixin, Queue.get) receives through this client.
        client.meta.events.register("provide-client-params.sqs.ReceiveMessage", self._receive_with_visibility)
        client.meta.events.register("after-call.sqs.ReceiveMessage", self._received)
        return client

    def _receive_with_visibility(self, params, **kwargs):
        params.setdefault("VisibilityTimeout", self.visibility_timeout)

    def _received(self, http_response, **kwargs):
        if http_response.status_code == 200:
            self.alive_at = time.monotonic()

    def _get_bulk(self, queue, *args, **kwargs):
        return self.recreating_missing(queue, super()._get_bulk, queue, *args, **kwargs)

    def _get(self, queue, *args, **kwargs):
        return self.recreating_missing(queue, super()._get, queue, *args, **kwargs)

    def is_consuming(self) -> bool:
        """Whether the consuming loop received from SQS (or chose not to) within one long poll and some slack.

        A channel that has not received yet counts from when it was made.
        """
        last = self.alive_at if self.alive_at is not None else self.created_at
        return time.monotonic() - last <= self.consuming_window()

    def consuming_window(self) -> float:
        """Seconds a consuming loop may go without a receive before it counts as stuck."""
        return self.wait_time_seconds + CONSUMING_SLACK

    def _restore(self, message):
        """Give a message back to the queue it came from, to be delivered again shortly.

        kombu would publish it again to every queue its routing key matches:
        with the exchange on every channel that means the platform queue too,
        with a receipt handle that belongs to another queue.
        """
        info = message.delivery_info
        receipt = (info.get("sqs_message") or {}).get("ReceiptHandle")
        if not receipt:
            return super()._restore(message)
        receives = (info["sqs_message"].get("Attributes") or {}).get("ApproximateReceiveCount", 1)
        try:
            self.sqs().change_message_visibility(
                QueueUrl=info["sqs_queue"], ReceiptHandle=receipt, VisibilityTimeout=redelivery_delay(receives)
            )
        except Exception as error:
            # Raising here would keep the delivery's prefetch slot for good (kombu's QoS.reject).
            logger.warning(
                "Could not give message %s back to %s early (%r); SQS delivers it again when its visibility "
                "timeout runs out.",
                info["sqs_message"].get("MessageId"),
                info["sqs_queue"],
                error,
            )

    # -- Holding: while a consumer holds a message unacknowledged, keep it hidden.
    def basic_consume(self, queue, no_ack, *args, **kwargs):
        if not no_ack:
            # Made now, before the first message: making an SQS client takes some 60 to 100 ms of CPU,
            # which the first acknowledgements would otherwise wait for.
            self.deleter()
            if self._visibility is None:
                self._visibility = VisibilityKeeper(self)
                self._visibility.start()
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def deleter(self):
        """The thread that deletes acknowledged messages, started on first use."""
        if self._deleter is None:
            self._deleter = Deleter(self)
        return self._deleter

    def close(self):
        if self._visibility is not None:
            self._visibility.stop()
        if self._deleter is not None:
            self._deleter.stop()
        super().close()

    def held_messages(self):
        """(queue URL, SQS message) of every message delivered here and not yet acknowledged."""
        if self._qos is None:
            return
        # Copies are atomic under the GIL; the event loop adds and removes meanwhile. Acknowledged
        # and rejected deliveries stay in _delivered, marked dirty, until the next one arrives.
        done = self._qos._dirty.copy()
        delivered = self._qos._delivered.copy()
        for tag, message in delivered.items():
            if tag in done:
                continue
            info = message.delivery_info
            if "sqs_message" in info:
                yield info["sqs_queue"], info["sqs_message"]

    def background_client(self):
        """The SQS client of the threads beside the event loop, made once (boto3 clients are thread-safe).
        Its calls give up within seconds."""
        if self._background_client is None:
            self._background_client = self._new_boto_client(
                service="sqs",
                region=self.region,
                access_key_id=self.conninfo.userid,
                secret_access_key=self.conninfo.password,
                config=SHORT_TIMEOUTS,
            )
        return self._background_client

    # -- Creating queues: each work queue gets a dead-letter queue.
    def _create_queue(self, queue_name, attributes):
        dead_letter = self.transport_options.get(DEAD_LETTER_OPTION)
        if dead_letter and not queue_name.endswith(DEAD_LETTER_SUFFIXES) and not is_catch_all_name(self, queue_name):
            attributes = {**attributes, "RedrivePolicy": self._redrive_policy(queue_name, attributes, dead_letter)}
        return super()._create_queue(queue_name, attributes)

    def _redrive_policy(self, queue_name, attributes, dead_letter):
        name = dead_letter_name(queue_name)
        dead_attributes = {"MessageRetentionPeriod": str(MAX_RETENTION_SECONDS)}
        if attributes.get("FifoQueue") == "true":
            dead_attributes["FifoQueue"] = "true"
        client = self.sqs()
        url = client.create_queue(QueueName=name, Attributes=dead_attributes)["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": str(dead_letter["max_receive_count"])})

    def ensure_dead_letter_queue(self, queue):
        """Give an existing work queue its dead-letter queue, if it has none (queues made before it mattered)."""
        dead_letter = self.transport_options.get(DEAD_LETTER_OPTION)
        name = self.canonical_queue_name(queue)
        if not dead_letter or name.endswith(DEAD_LETTER_SUFFIXES) or is_catch_all_name(self, name):
            return
        url = self._new_queue(queue)
        client = self.sqs(queue=name)
        attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy", "FifoQueue"])
        attributes = attributes.get("Attributes", {})
        if "RedrivePolicy" not in attributes:
            policy = self._redrive_policy(name, attributes, dead_letter)
            client.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": policy})

    # -- Publishing: see DeliveringTopicExchange.deliver.
    def _put(self, queue, message, **kwargs):
        return self.recreating_missing(queue, super()._put, queue, message, **kwargs)

    def size_limit(self, queue):
        """The largest message ``queue`` takes, in bytes (SQS's MaximumMessageSize, read once)."""
        return self.recreating_missing(queue, self._read_size_limit, queue)

    def _read_size_limit(self, queue):
        url = self._new_queue(queue)
        if url not in self._size_limits:
            attributes = self.sqs(queue=self.canonical_queue_name(queue)).get_queue_attributes(
                QueueUrl=url, AttributeNames=["MaximumMessageSize"]
            )["Attributes"]
            self._size_limits[url] = int(attributes.get("MaximumMessageSize", DEFAULT_MAX_MESSAGE_BYTES))
        return self._size_limits[url]

    # -- Queues that went away: kombu remembers each queue's URL for the life
    # of the connection (and kombu's pools keep connections for the life of
    # the process), so a queue deleted or lost with the broker (a LocalStack
    # restarted empty, a region fail-over) fails every call until a restart.
    def recreating_missing(self, queue, call, *args, **kwargs):
        """``call(*args, **kwargs)``; if SQS says ``queue`` does not exist, forget it, create it again, retry once."""
        try:
            return call(*args, **kwargs)
        except ClientError as error:
            if not is_missing_queue(error):
                raise
            logger.warning("Queue %s is gone from SQS; creating it again.", self.canonical_queue_name(queue))
            self.forget_queue(queue)
            self._new_queue(queue)
            return call(*args, **kwargs)

    def forget_queue(self, queue):
        """Drop what this connection remembers of ``queue`` (its URL and size limit)."""
        url = self._queue_cache.pop(self.canonical_queue_name(queue), None)
        self._size_limits.pop(url, None)

    def encoded_size(self, message):
        """The size of the body ``_put`` would send for ``message``."""
        body = dumps(message)
        if self.sqs_base64_encoding:
            body = AsyncMessage().encode(body)
        return len(body.encode() if isinstance(body, str) else body)


class VisibilityKeeper:
    """Keeps the messages a consuming channel holds hidden until it lets go of them.

    A running task, a reserved one and one waiting for its ETA are all held
    unacknowledged. Every third of the visibility timeout their visibility is
    set to the whole timeout again, ten to a request (ChangeMessageVisibilityBatch),
    from a thread of its own so the event loop never waits on SQS. So the
    timeout can be short: a worker that dies gives its messages back within it,
    and a task longer than it still runs once. SQS refuses to hide a message
    for more than 12 hours after it was received: such a message is logged,
    once, and is delivered again when its timeout runs out.
    """

    def __init__(self, channel):
        self.channel = channel
        self.timeout = channel.visibility_timeout
        self.interval = max(1.0, self.timeout / 3)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, name="sqs-visibility", daemon=True)
        self.client = channel.background_client()
        self.reported = set()

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopped.set()

    def run(self):
        while not self.stopped.wait(self.interval):
            try:
                self.extend()
            except Exception as error:  # the next round tries again; the messages stay held meanwhile
                logger.warning("Could not extend the visibility of held messages: %r", error)

    def extend(self):
        held = defaultdict(list)
        for url, message in self.channel.held_messages():
            held[url].append(message)
        for url, messages in held.items():
            for start in range(0, len(messages), VISIBILITY_BATCH):
                self.extend_batch(url, messages[start : start + VISIBILITY_BATCH])

    def extend_batch(self, url, batch):
        entries = [
            {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": self.timeout}
            for number, message in enumerate(batch)
        ]
        response = self.client.change_message_visibility_batch(QueueUrl=url, Entries=entries)
        for failure in response.get("Failed", []):
            message_id = batch[int(failure["Id"])]["MessageId"]
            if failure["Code"] == "ReceiptHandleIsInvalid" or message_id in self.reported:
                continue  # acknowledged meanwhile, or said already
            self.reported.add(message_id)
            logger.warning(
                "Message %s in %s can no longer be kept hidden (%s: %s); SQS delivers it again when its "
                "visibility timeout runs out.",
                message_id,
                url,
                failure["Code"],
                failure.get("Message"),
            )


class Deleter:
    """Deletes acknowledged messages from a thread of its own, up to ten to a DeleteMessageBatch.

    What is acknowledged within DELETE_LINGER of the first goes in the same
    request, up to ten. ``stop`` deletes what is still waiting, for up to DELETE_STOP_TIMEOUT.
    """

    def __init__(self, channel):
        self.channel = channel
        self.waiting = queue_module.Queue()
        self.client = channel.background_client()
        self.thread = threading.Thread(target=self.run, name="sqs-delete", daemon=True)
        self.thread.start()

    def add(self, url, message):
        self.waiting.put((url, message))

    def stop(self):
        self.waiting.put(None)
        self.thread.join(DELETE_STOP_TIMEOUT)

    def run(self):
        while True:
            batches, stopping = self.gather()
            for url, messages in batches.items():
                self.delete(url, messages)
            if stopping:
                return

    def gather(self):
        """What waits, by queue URL, until DELETE_LINGER after the first item or a full batch; and whether to stop."""
        batches = defaultdict(list)
        item = self.waiting.get()
        deadline = time.monotonic() + DELETE_LINGER
        while item is not None:
            batches[item[0]].append(item[1])
            if len(batches[item[0]]) == VISIBILITY_BATCH:
                return batches, False
            try:
                item = self.waiting.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue_module.Empty:
                return batches, False
        return batches, True

    def delete(self, url, messages):
        entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)]
        try:
            failed = self.client.delete_message_batch(QueueUrl=url, Entries=entries).get("Failed", [])
        except Exception as error:
            ids = ", ".join(m["MessageId"] for m in messages)
            logger.error("Could not delete messages %s from %s (%r): SQS delivers them again.", ids, url, error)
            return
        for failure in failed:
            logger.warning(
                "Message %s in %s was not deleted (%s: %s): SQS may deliver it again.",
                messages[int(failure["Id"])]["MessageId"],
                url,
                failure["Code"],
                failure.get("Message"),
            )


def is_missing_queue(error: ClientError) -> bool:
    """Whether SQS refused a call because the queue does not exist (both spellings of the error code)."""
    return error.response.get("Error", {}).get("Code") in MISSING_QUEUE_CODES


def is_missing_queue_text(text: str) -> bool:
    """Whether an SQS error response's text says the queue does not exist."""
    return any(code in text for code in MISSING_QUEUE_CODES)


def redelivery_delay(receives: int | str) -> int:
    """Seconds a message given back after its ``receives``-th receive waits before its next delivery."""
    return min(MAX_REDELIVERY_DELAY, REDELIVERY_DELAY * REDELIVERY_GROWTH ** max(0, int(receives) - 1))


def dead_letter_name(queue_name):
    """The SQS name of ``queue_name``'s dead-letter queue: ``<name>-dlq`` (``.fifo`` kept last)."""
    if queue_name.endswith(".fifo"):
        return queue_name[: -len(".fifo")] + "-dlq.fifo"
    return queue_name + "-dlq"


def is_catch_all_name(channel, sqs_name):
    """Whether ``sqs_name`` is a queue bound with ``#``: the platform's, which its own consumer looks after."""
    described = channel.transport_options.get(TOPOLOGY_OPTION) or {}
    return any(
        key == CATCH_ALL and channel.canonical_queue_name(queue) == sqs_name
        for queue, key in described.get("bindings", [])
    )


class Transport(SQS.Transport):
    """kombu's SQS transport, whose every channel holds the app's topic exchange."""

    Channel = Channel


#: What ``broker_transport`` names: kombu imports it by this path.
TRANSPORT_PATH = f"{__name__}:Transport"
