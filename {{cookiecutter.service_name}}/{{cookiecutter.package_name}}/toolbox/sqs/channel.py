"""The toolbox's SQS channel and transport: kombu's, with each concern of this package mixed in."""

from kombu.transport import SQS

from ..upstream import forget_delivery, new_boto_client, sqs_delivery, unfinished_deliveries
from .lifecycle import SHORT_TIMEOUTS, MessageLifecycle
from .publishing import DeliveringTopicExchange, PublishingMixin
from .queues import QueuesMixin
from .receiving import ReceivingMixin
from .topology import TopologyMixin


class Channel(TopologyMixin, ReceivingMixin, PublishingMixin, QueuesMixin, SQS.Channel):
    """kombu's SQS channel, with the toolbox's routing state, delivery and visibility rules."""

    exchange_types = {**TopologyMixin.exchange_types, "topic": DeliveringTopicExchange}
    #: The class that looks after what this channel receives; a subclass may name its own.
    Lifecycle = MessageLifecycle

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lifecycle = self.Lifecycle(
            lambda: new_boto_client(self, SHORT_TIMEOUTS), self.visibility_timeout, self.held_messages
        )

    def basic_consume(self, queue, no_ack, *args, **kwargs):
        if not no_ack:
            self.lifecycle.start()
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def held_messages(self):
        """(queue URL, SQS message) of every message delivered here and neither acknowledged nor rejected."""
        for message in unfinished_deliveries(self._qos):
            delivery = sqs_delivery(message)
            if delivery is not None:
                yield delivery

    def delivery(self, delivery_tag):
        """(queue URL, SQS message) of the delivery ``delivery_tag``, or None if it is not one from SQS."""
        try:
            return sqs_delivery(self.qos.get(delivery_tag))
        except KeyError:
            return None

    def basic_ack(self, delivery_tag, multiple=False):
        """Free the slot now; the lifecycle deletes the message from SQS in the background, in batches."""
        delivery = self.delivery(delivery_tag)
        try:
            if delivery is None:
                super().basic_ack(delivery_tag, multiple=multiple)
            else:
                self.lifecycle.ack(*delivery)
                forget_delivery(self, delivery_tag)
        finally:
            self.slot_freed()

    def basic_reject(self, delivery_tag, requeue=False):
        try:
            if not requeue and (delivery := self.delivery(delivery_tag)) is not None:
                self.lifecycle.reject(*delivery)
            return super().basic_reject(delivery_tag, requeue=requeue)  # requeue: kombu calls _restore
        finally:
            self.slot_freed()

    def _restore(self, message):
        """Give a message back to the queue it came from, to be delivered again shortly.

        kombu would publish it again to every queue its routing key matches:
        with the exchange on every channel that means the platform queue too,
        with a receipt handle that belongs to another queue.
        """
        delivery = sqs_delivery(message)
        if delivery is None:
            return super()._restore(message)
        return self.lifecycle.give_back(*delivery)

    def close(self):
        self.lifecycle.close()
        super().close()


class Transport(SQS.Transport):
    """kombu's SQS transport, whose every channel holds the app's topic exchange."""

    Channel = Channel
