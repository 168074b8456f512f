"""The worker's message consumer: no message can stop it, none is dropped unseen.

Celery's consumer dies on a task message whose headers lack an id, and
acknowledges (deletes) bodies it cannot decode. This one logs every message it
cannot read at ERROR, with its SQS message id, and rejects it without deleting
it: SQS delivers it again and, after SQS_MAX_RECEIVE_COUNT receives, moves it
to the queue's dead-letter queue, where it waits to be looked at.
"""

import logging

from celery.worker.consumer import Consumer as CeleryConsumer
from kombu.utils.encoding import safe_repr

from .upstream import sqs_delivery

logger = logging.getLogger(__name__)

#: Protocol 2 headers the worker cannot run a task without.
REQUIRED_HEADERS = ("id", "task")


class Consumer(CeleryConsumer):
    def create_task_handler(self, *args, **kwargs):
        handle = super().create_task_handler(*args, **kwargs)

        def on_task_received(message):
            problem = unreadable(message.headers)
            if problem:
                return self.on_unreadable(message, problem)
            return handle(message)

        return on_task_received

    def on_decode_error(self, message, exc):
        self.on_unreadable(message, f"its body does not decode: {exc!r}")

    def on_unknown_message(self, body, message):
        self.on_unreadable(message, "it is not a Celery task message")

    def on_unreadable(self, message, problem):
        url, sqs = sqs_delivery(message) or (None, {})
        logger.error(
            "Message %s from %s cannot be run as a task: %s. Rejected without deleting it: after %s receives "
            "SQS moves it to the queue's dead-letter queue. Headers: %s; body: %s",
            sqs.get("MessageId", message.delivery_tag),
            message.delivery_info.get("routing_key") or url,
            problem,
            self.app.conf.SQS_MAX_RECEIVE_COUNT,
            safe_repr(message.headers)[:1000],
            safe_repr(message.body)[:1000],
        )
        message.reject_log_error(logger, self.connection_errors)


def unreadable(headers):
    """Why a message with these headers cannot be run, or None.

    Headers without a task name are left to Celery (protocol 1, or not a task
    at all), which calls on_unknown_message or on_decode_error.
    """
    if not isinstance(headers, dict) or "task" not in headers:
        return None
    wrong = [name for name in REQUIRED_HEADERS if not isinstance(headers.get(name), str) or not headers[name]]
    if wrong:
        return f"its {' and '.join(wrong)} header{'s are' if len(wrong) > 1 else ' is'} missing or not text"
    return None
