"""Publishing a task: both copies, or a loud error that says which were sent.

kombu sends one copy per bound queue, one after the other, in no fixed order,
and stops at the first failure. Here every copy is checked against its queue's
size limit before anything is sent; then the platform's copy goes first, so a
task that runs is always tracked, and a failure after it names what was sent.
Sending again with the same task id is safe: the platform keeps one row per id.
"""

import logging

from kombu.asynchronous.aws.sqs.message import AsyncMessage
from kombu.utils.json import dumps

from ..errors import MessageTooLargeError, PartialPublishError, PublishError
from .quotas import DEFAULT_MAX_MESSAGE_BYTES
from .topology import TOPOLOGY_OPTION, OrderedTopicExchange

logger = logging.getLogger(__name__)


class DeliveringTopicExchange(OrderedTopicExchange):
    """The topic exchange of the toolbox's channel: see the module's docstring."""

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


class PublishingMixin:
    """What the exchange asks of its channel: each queue's size limit, and a message's encoded size."""

    def __init__(self, *args, **kwargs):
        self._size_limits = {}  # queue URL -> MaximumMessageSize
        super().__init__(*args, **kwargs)

    def size_limit(self, queue):
        """The largest message ``queue`` takes, in bytes: SQS's MaximumMessageSize, read once. Provisioned,
        SQS's largest: a sender's policy lets it find and send, not read, and the stack keeps the default."""
        if self.provisioned:
            return DEFAULT_MAX_MESSAGE_BYTES
        return self.recreating_missing(queue, self._read_size_limit, queue)

    def _read_size_limit(self, queue):
        url = self._new_queue(queue)
        if url not in self._size_limits:
            attributes = self.sqs(queue=self.canonical_queue_name(queue)).get_queue_attributes(
                QueueUrl=url, AttributeNames=["MaximumMessageSize"]
            )["Attributes"]
            self._size_limits[url] = int(attributes.get("MaximumMessageSize", DEFAULT_MAX_MESSAGE_BYTES))
        return self._size_limits[url]

    def forget_queue(self, queue):
        url = super().forget_queue(queue)
        self._size_limits.pop(url, None)
        return url

    def encoded_size(self, message):
        """The size of the body ``_put`` would send for ``message``."""
        body = dumps(message)
        if self.sqs_base64_encoding:
            body = AsyncMessage().encode(body)
        return len(body.encode() if isinstance(body, str) else body)
