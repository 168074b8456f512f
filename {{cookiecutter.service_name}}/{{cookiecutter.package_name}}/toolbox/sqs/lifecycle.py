"""A message's life after it is received, in one place.

    received ──► held ──(renewed every third of the visibility timeout)──┐
                  │                                                       │
                  ├── ack ──────► deleted, ten to a DeleteMessageBatch   ◄┘
                  ├── give_back ► visible again after redelivery_delay(receives)
                  └── reject ───► visible again when its visibility timeout runs out
    the last receive SQS_MAX_RECEIVE_COUNT allows ends in <queue>-dlq (queues.py)

A running task, a reserved one and one waiting for its ETA are all *held*:
received and not yet acknowledged. The worker's channel and the sync-tasks
stub both go through ``MessageLifecycle``, so one rule gives a message back
wherever it was received.

Threads: ``ack``, ``give_back`` and ``reject`` run on the thread that consumes
(the worker's event loop, the stub's consuming loop) and never wait on SQS for
long. Deleting and renewing run on a thread each (``Deleter``, ``Renewer``),
started by ``start``; all three share one SQS client with short timeouts,
which boto3 makes safe to share. ``held()`` is read from the renewing thread:
it must be safe to call while the consuming thread adds and removes.
"""

import logging
import queue as queue_module
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from botocore.config import Config as BotoConfig

from .quotas import BATCH, INVALID_RECEIPT_CODE

logger = logging.getLogger(__name__)

#: Seconds before a message given back (requeued, or held at shutdown) is delivered again, the first
#: time; each further receive waits REDELIVERY_GROWTH times longer, up to MAX_REDELIVERY_DELAY. So a
#: cause that lasts (a database down) meets a slower retry, and the receives allowed before
#: dead-lettering span minutes, not seconds.
REDELIVERY_DELAY = 1
REDELIVERY_GROWTH = 4
MAX_REDELIVERY_DELAY = 300
#: Seconds the deleting thread waits for more acknowledgements to share a DeleteMessageBatch (ten fill
#: one sooner). Longer means fewer requests; a worker killed meanwhile runs those tasks again.
DELETE_LINGER = 0.05
#: Seconds a closing channel waits for the deletes still waiting.
DELETE_STOP_TIMEOUT = 10
#: Held messages are renewed this often, as a share of the visibility timeout, but no more than once a
#: MIN_RENEW_INTERVAL: two renewals may fail before a message shows again.
RENEW_SHARE = 1 / 3
MIN_RENEW_INTERVAL = 1.0
#: For the calls beside the event loop: a broker that does not answer must not hold them for minutes.
SHORT_TIMEOUTS = BotoConfig(connect_timeout=5, read_timeout=5, retries={"total_max_attempts": 2})

#: (queue URL, SQS message as ReceiveMessage returned it)
Held = tuple[str, dict]


def redelivery_delay(receives: int | str) -> int:
    """Seconds a message given back after its ``receives``-th receive waits before its next delivery."""
    return min(MAX_REDELIVERY_DELAY, REDELIVERY_DELAY * REDELIVERY_GROWTH ** max(0, int(receives) - 1))


def renew_interval(visibility_timeout: float) -> float:
    return max(MIN_RENEW_INTERVAL, visibility_timeout * RENEW_SHARE)


def receives_of(message: dict) -> int:
    """How often SQS has delivered ``message`` (kombu asks for ApproximateReceiveCount on every receive)."""
    return int((message.get("Attributes") or {}).get("ApproximateReceiveCount", 1))


class MessageLifecycle:
    """The messages one consumer received, from receipt to deletion or return.

    ``client_factory`` makes the SQS client on first need (making one costs
    some 60 to 100 ms of CPU); ``held`` lists what is held right now.
    """

    def __init__(self, client_factory: Callable[[], Any], visibility_timeout: int, held: Callable[[], Iterable[Held]]):
        self.client_factory = client_factory
        self.visibility_timeout = visibility_timeout
        self.held = held
        self._client = None
        self.deleter = None
        self.renewer = None
        self.unrenewable = set()  # ids of messages SQS would not hide longer, said once
        # A message let go of (given back, rejected) may still be listed as held for a moment: the renewing
        # thread must not hide it again. The lock keeps a renewal and a give-back of one message apart.
        self.let_go: set[str] = set()  # receipt handles
        self._renewing = threading.Lock()

    @property
    def client(self):
        if self._client is None:
            self._client = self.client_factory()
        return self._client

    def start(self) -> None:
        """Before the first message is held: make the client, start deleting and renewing."""
        self.deleting()
        if self.renewer is None:
            self.renewer = Renewer(renew_interval(self.visibility_timeout), self.renew)

    def deleting(self) -> "Deleter":
        """The deleting thread, started on first use."""
        if self.deleter is None:
            self.deleter = Deleter(self.client)
        return self.deleter

    def ack(self, url: str, message: dict) -> None:
        """Done with: delete it, in a batch, soon. A delete that fails leaves it to come back (at least once)."""
        self.deleting().add(url, message)

    def give_back(self, url: str, message: dict) -> None:
        """Not done with: make it visible again after ``redelivery_delay`` of its receives."""
        try:
            with self._renewing:
                self.let_go.add(message["ReceiptHandle"])
                self.client.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=self.delay(message)
                )
        except Exception as error:
            # Raising here would keep the delivery's prefetch slot for good (kombu's QoS.reject).
            logger.warning(
                "Could not give message %s back to %s early (%r); SQS delivers it again when its visibility "
                "timeout runs out.",
                message.get("MessageId"),
                url,
                error,
            )

    @staticmethod
    def delay(message: dict) -> int:
        return redelivery_delay(receives_of(message))

    def reject(self, url: str, message: dict) -> None:
        """Not to be run here: let go of it without a request. It is no longer renewed, so SQS delivers it
        again when its visibility timeout runs out, and moves it to the dead-letter queue after its
        last receive. (kombu's channel deletes it instead where the queue has no redrive policy, lest
        it come back for ever: upstream.DETAILS.) The caller has logged why."""
        with self._renewing:
            self.let_go.add(message["ReceiptHandle"])

    def renew(self) -> None:
        """Hide every held message for a whole visibility timeout again (the renewing thread calls this)."""
        held = list(self.held())
        with self._renewing:
            self.let_go &= {message["ReceiptHandle"] for _, message in held}  # the rest are forgotten by now
            by_queue = defaultdict(list)
            for url, message in held:
                if message["ReceiptHandle"] not in self.let_go:
                    by_queue[url].append(message)
            for url, messages in by_queue.items():
                for start in range(0, len(messages), BATCH):
                    self.renew_batch(url, messages[start : start + BATCH])

    def renew_batch(self, url: str, batch: list[dict]) -> None:
        entries = [
            {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": self.visibility_timeout}
            for number, message in enumerate(batch)
        ]
        response = self.client.change_message_visibility_batch(QueueUrl=url, Entries=entries)
        for failure in response.get("Failed", []):
            message_id = batch[int(failure["Id"])]["MessageId"]
            if failure["Code"] == INVALID_RECEIPT_CODE or message_id in self.unrenewable:
                continue  # acknowledged meanwhile, or said already
            # SQS hides a message for at most 12 hours after its receive.
            self.unrenewable.add(message_id)
            logger.warning(
                "Message %s in %s can no longer be kept hidden (%s: %s); SQS delivers it again when its "
                "visibility timeout runs out.",
                message_id,
                url,
                failure["Code"],
                failure.get("Message"),
            )

    def close(self) -> None:
        """Stop renewing, and delete what was acknowledged and not yet deleted."""
        if self.renewer is not None:
            self.renewer.stop()
        if self.deleter is not None:
            self.deleter.stop()


class Renewer:
    """Calls ``renew`` every ``interval`` seconds from a thread of its own, until stopped.

    So the visibility timeout can be short: a worker that dies gives its
    messages back within it, and a task longer than it still runs once.
    """

    def __init__(self, interval: float, renew: Callable[[], None]):
        self.interval, self.renew = interval, renew
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, name="sqs-visibility", daemon=True)
        self.thread.start()

    def stop(self):
        self.stopped.set()

    def run(self):
        while not self.stopped.wait(self.interval):
            try:
                self.renew()
            except Exception as error:  # the next round tries again; the messages stay held meanwhile
                logger.warning("Could not extend the visibility of held messages: %r", error)


class Deleter:
    """Deletes acknowledged messages from a thread of its own, up to ten to a DeleteMessageBatch.

    What is acknowledged within DELETE_LINGER of the first goes in the same
    request, up to ten. ``stop`` deletes what still waits, for up to DELETE_STOP_TIMEOUT.
    """

    def __init__(self, client):
        self.client = client
        self.waiting = queue_module.Queue()
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
            if len(batches[item[0]]) == BATCH:
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
