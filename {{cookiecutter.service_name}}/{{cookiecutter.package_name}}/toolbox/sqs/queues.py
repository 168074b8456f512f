"""The queues in SQS: who owns which, dead-letter queues, and queues that went away.

- Ownership: a service owns the queues it consumes (``OWNED_OPTION``: its
  WORKER_QUEUES). Only those it creates with a dead-letter queue and a redrive
  policy (``DEAD_LETTER_OPTION``), and ``ensure_dead_letter_queue`` gives one to
  such a queue made before. Another service's queue, or the platform's, it
  only finds and sends to; where one is missing it is created as kombu would,
  with nothing but a visibility timeout, so a local stack works.
- Provisioned (``PROVISIONED_OPTION``, QUEUES_PROVISIONED): nothing is created
  or changed at all; a missing queue is ``QueueNotProvisionedError``.
- Finding: a queue's URL comes from GetQueueUrl for its exact name, not from
  ListQueues (kombu's way), which no least-privilege policy scoped to queues
  allows; provisioned, a channel lists nothing when it opens either. Declaring
  a queue does not count its messages.
- Queues that went away: kombu remembers each queue's URL for the life of the
  connection (and its pools keep connections for the life of the process), so
  a queue deleted or lost with the broker (a LocalStack restarted empty, a
  region fail-over) would fail every call until a restart. Here a call that
  SQS refuses for a missing queue forgets it, creates it again, and retries once.
"""

import json
import logging

from amqp.protocol import queue_declare_ok_t
from botocore.exceptions import ClientError

from ..contract import dead_letter_name, is_dead_letter_name
from ..errors import QueueNotProvisionedError
from ..upstream import queue_urls
from .quotas import MAX_RETENTION_SECONDS, MISSING_QUEUE_CODES
from .topology import TOPOLOGY_OPTION, catch_all_queues

logger = logging.getLogger(__name__)

#: The transport option that asks for dead-letter queues: {"max_receive_count": N}.
DEAD_LETTER_OPTION = "dead_letter"
#: The transport option naming the queues this service owns (before the prefix).
OWNED_OPTION = "owned_queues"
#: The transport option that forbids creating or changing any queue.
PROVISIONED_OPTION = "provisioned"


def is_missing_queue(error: ClientError) -> bool:
    """Whether SQS refused a call because the queue does not exist (both spellings of the error code)."""
    return error.response.get("Error", {}).get("Code") in MISSING_QUEUE_CODES


def is_missing_queue_text(text: str) -> bool:
    """Whether an SQS error response's text says the queue does not exist."""
    return any(code in text for code in MISSING_QUEUE_CODES)


class QueuesMixin:
    """Finding queues, creating the service's own with their dead-letter queues, and those that went away."""

    def owns(self, sqs_name):
        """Whether the queue named ``sqs_name`` in SQS is one this service consumes, and so configures."""
        return sqs_name in {self.canonical_queue_name(q) for q in self.transport_options.get(OWNED_OPTION) or ()}

    @property
    def provisioned(self):
        return bool(self.transport_options.get(PROVISIONED_OPTION))

    def _update_queue_cache(self, queue_name_prefix):
        # kombu lists every queue under the prefix when a channel opens, and looks a name up the same way.
        # Provisioned, a channel opens without a request (each queue is found when first used); else the
        # listing stays, as it is what tells a connection that SQS cannot be reached.
        if self.predefined_queues:
            return super()._update_queue_cache(queue_name_prefix)
        if queue_name_prefix == self.queue_name_prefix:  # a channel opening
            return None if self.provisioned else super()._update_queue_cache(queue_name_prefix)
        try:
            url = self.sqs(queue=queue_name_prefix).get_queue_url(QueueName=queue_name_prefix)["QueueUrl"]
        except ClientError as error:
            if not is_missing_queue(error):
                raise
            return None  # kombu's _new_queue creates it, or says it is missing
        queue_urls(self)[queue_name_prefix] = url
        return None

    def queue_declare(self, queue=None, passive=False, **kwargs):
        # kombu counts a queue's messages whenever it declares it, as Celery does before its first send to a
        # queue: a read that no sender's policy grants. Declaring finds (or creates) the queue, no more.
        if queue is None or passive:
            return super().queue_declare(queue, passive=passive, **kwargs)
        self._new_queue(queue, **kwargs)
        return queue_declare_ok_t(queue, 0, 0)

    def _create_queue(self, queue_name, attributes):
        if self.provisioned:
            raise QueueNotProvisionedError([queue_name])
        dead_letter = self.transport_options.get(DEAD_LETTER_OPTION)
        if dead_letter and self.has_dead_letter_queue(queue_name):
            attributes = {**attributes, "RedrivePolicy": self._redrive_policy(queue_name, attributes, dead_letter)}
        return super()._create_queue(queue_name, attributes)

    def has_dead_letter_queue(self, sqs_name):
        """Whether the queue named ``sqs_name`` in SQS is a work queue of this service's, which dead-letters."""
        platform = {self.canonical_queue_name(q) for q in catch_all_queues(self.transport_options.get(TOPOLOGY_OPTION))}
        return self.owns(sqs_name) and not is_dead_letter_name(sqs_name) and sqs_name not in platform

    def _redrive_policy(self, queue_name, attributes, dead_letter):
        dead_attributes = {"MessageRetentionPeriod": str(MAX_RETENTION_SECONDS)}
        if attributes.get("FifoQueue") == "true":
            dead_attributes["FifoQueue"] = "true"
        client = self.sqs()
        url = client.create_queue(QueueName=dead_letter_name(queue_name), Attributes=dead_attributes)["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": str(dead_letter["max_receive_count"])})

    def ensure_dead_letter_queue(self, queue):
        """Give an existing work queue of this service's its dead-letter queue, if it has none (queues made
        before it mattered). Nothing when provisioned: the stack that made the queue gave it one."""
        dead_letter = self.transport_options.get(DEAD_LETTER_OPTION)
        name = self.canonical_queue_name(queue)
        if not dead_letter or self.provisioned or not self.has_dead_letter_queue(name):
            return
        url = self._new_queue(queue)
        client = self.sqs(queue=name)
        attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy", "FifoQueue"])
        attributes = attributes.get("Attributes", {})
        if "RedrivePolicy" not in attributes:
            policy = self._redrive_policy(name, attributes, dead_letter)
            client.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": policy})

    def _put(self, queue, message, **kwargs):
        return self.recreating_missing(queue, super()._put, queue, message, **kwargs)

    def _get_bulk(self, queue, *args, **kwargs):
        return self.recreating_missing(queue, super()._get_bulk, queue, *args, **kwargs)

    def _get(self, queue, *args, **kwargs):
        return self.recreating_missing(queue, super()._get, queue, *args, **kwargs)

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
        """Drop what this connection remembers of ``queue``; return the URL it had."""
        return queue_urls(self).pop(self.canonical_queue_name(queue), None)
