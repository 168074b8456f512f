"""The queues in SQS: each work queue with its dead-letter queue, and queues that went away.

- Dead letters: a work queue gets ``<name>-dlq`` and a redrive policy when it
  is created (``DEAD_LETTER_OPTION``); ``ensure_dead_letter_queue`` gives one
  to a queue made before. The platform queue is its own consumer's to look after.
- Queues that went away: kombu remembers each queue's URL for the life of the
  connection (and its pools keep connections for the life of the process), so
  a queue deleted or lost with the broker (a LocalStack restarted empty, a
  region fail-over) would fail every call until a restart. Here a call that
  SQS refuses for a missing queue forgets it, creates it again, and retries once.
"""

import json
import logging

from botocore.exceptions import ClientError

from ..contract import dead_letter_name, is_dead_letter_name
from ..upstream import queue_urls
from .quotas import MAX_RETENTION_SECONDS, MISSING_QUEUE_CODES
from .topology import TOPOLOGY_OPTION, catch_all_queues

logger = logging.getLogger(__name__)

#: The transport option that asks for dead-letter queues: {"max_receive_count": N}.
DEAD_LETTER_OPTION = "dead_letter"


def is_missing_queue(error: ClientError) -> bool:
    """Whether SQS refused a call because the queue does not exist (both spellings of the error code)."""
    return error.response.get("Error", {}).get("Code") in MISSING_QUEUE_CODES


def is_missing_queue_text(text: str) -> bool:
    """Whether an SQS error response's text says the queue does not exist."""
    return any(code in text for code in MISSING_QUEUE_CODES)


class QueuesMixin:
    """Creating queues with their dead-letter queues, and creating again those that went away."""

    def _create_queue(self, queue_name, attributes):
        dead_letter = self.transport_options.get(DEAD_LETTER_OPTION)
        if dead_letter and self.has_dead_letter_queue(queue_name):
            attributes = {**attributes, "RedrivePolicy": self._redrive_policy(queue_name, attributes, dead_letter)}
        return super()._create_queue(queue_name, attributes)

    def has_dead_letter_queue(self, sqs_name):
        """Whether the queue named ``sqs_name`` in SQS is a work queue, which dead-letters."""
        platform = {self.canonical_queue_name(q) for q in catch_all_queues(self.transport_options.get(TOPOLOGY_OPTION))}
        return not is_dead_letter_name(sqs_name) and sqs_name not in platform

    def _redrive_policy(self, queue_name, attributes, dead_letter):
        dead_attributes = {"MessageRetentionPeriod": str(MAX_RETENTION_SECONDS)}
        if attributes.get("FifoQueue") == "true":
            dead_attributes["FifoQueue"] = "true"
        client = self.sqs()
        url = client.create_queue(QueueName=dead_letter_name(queue_name), Attributes=dead_attributes)["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": str(dead_letter["max_receive_count"])})

    def ensure_dead_letter_queue(self, queue):
        """Give an existing work queue its dead-letter queue, if it has none (queues made before it mattered)."""
        dead_letter = self.transport_options.get(DEAD_LETTER_OPTION)
        name = self.canonical_queue_name(queue)
        if not dead_letter or not self.has_dead_letter_queue(name):
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
