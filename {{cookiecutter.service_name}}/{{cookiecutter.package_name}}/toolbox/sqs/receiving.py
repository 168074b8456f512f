"""Receiving: a consuming loop that never stops for good, and knows when it last did its job.

kombu's loop stops at the first failed receive (an error response raises into
the event loop, a timeout arrives as a list where a dict is expected, a lost
queue fails every poll), and with every slot busy it looks again only after
``polling_interval``. Here a failed receive is logged and retried, a lost
queue is created again (queues.py), a queue waits for the next freed slot, and
``alive_at`` records when the loop last received or chose not to, for the
heartbeat. Every receive sets the visibility timeout itself, so a queue made
elsewhere with another timeout still gives a crashed consumer's messages back
within this one.
"""

import logging
import time

from kombu.asynchronous.aws.sqs.connection import AsyncSQSConnection

from .queues import is_missing_queue_text

logger = logging.getLogger(__name__)

#: Seconds a consuming loop may go past a long poll without a receive before it counts as stuck.
CONSUMING_SLACK = 10
#: Seconds after which a queue waiting for a free slot looks again, should no acknowledgement wake it.
SLOT_RECHECK_INTERVAL = 0.25
#: Seconds between attempts to poll again after a receive failed (broker down, queue being re-created).
RECEIVE_RETRY_INTERVAL = 2
#: The key under which ``ReportingAsyncSQSConnection`` hands a failed receive to the channel.
RECEIVE_FAILURE = "ReceiveFailure"
#: Failed receives in a row are logged at ERROR once every this many.
FAILURES_PER_LOG = 10


class ReportingAsyncSQSConnection(AsyncSQSConnection):
    """kombu's asynchronous SQS client, whose failed receives come back as data, never as an exception.

    Both an error response and a timeout arrive at ``_on_messages_ready`` as
    ``{RECEIVE_FAILURE: "<what went wrong>"}``.
    """

    def _on_list_ready(self, parent, markers, operation, response):
        if response.status == self.STATUS_CODE_OK:
            return super()._on_list_ready(parent, markers, operation, response)
        body = response.read() or b""
        text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
        return {RECEIVE_FAILURE: f"HTTP {response.status} {response.reason} {text[:300]}".strip()}


class ReceivingMixin:
    """The consuming loop of the toolbox's channel (see the module's docstring)."""

    def __init__(self, *args, **kwargs):
        self._receive_failures = 0
        self._waiting_for_slot = set()  # queues whose receive loop waits for a free prefetch slot
        #: time.monotonic() when the loop last received from SQS, or chose not to (every slot busy);
        #: None until it first has.
        self.alive_at = None
        self.created_at = time.monotonic()
        super().__init__(*args, **kwargs)

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

    def _schedule_queue(self, queue):
        try:
            if queue in self._active_queues and not self.qos.can_consume():
                # Every slot busy: not polling is the job. The queue waits for the next acknowledgement
                # (slot_freed), with a timer as a safety net; it waits at most once, so it never has two loops.
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
        if self._receive_failures % FAILURES_PER_LOG == 0:
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

    def is_consuming(self) -> bool:
        """Whether the loop received from SQS (or chose not to) within one long poll and some slack.

        A channel that has not received yet counts from when it was made.
        """
        last = self.alive_at if self.alive_at is not None else self.created_at
        return time.monotonic() - last <= self.consuming_window()

    def consuming_window(self) -> float:
        """Seconds a consuming loop may go without a receive before it counts as stuck."""
        return self.wait_time_seconds + CONSUMING_SLACK
