"""A stand-in for the platform's sync-tasks process.

Consumes the platform queue and gets-or-creates one task row per task id, as
the platform does: type, input {args, kwargs}, options (message properties plus
the eta, expires, retries and timelimit headers), parent, root, and creator and
related object when the properties carry them.

- Idempotent: the same message twice makes one row.
- The database unreachable: the message is not acknowledged; SQS delivers it
  again a few seconds later, and again, until the row is stored.
- A message that is not a Celery task message is logged with its id, kept in
  platform_undecodable_message, and acknowledged; the stub goes on.

    python -m local_stack.sync_tasks     # configured from the environment, like the worker
"""

import json
import logging
import os
import signal
from pathlib import Path

import psycopg2
from kombu import Connection, Queue
from kombu.mixins import ConsumerMixin
from kombu.transport import virtual

from {{ cookiecutter.package_name }}.toolbox import Config

logger = logging.getLogger("sync_tasks")

OPTION_HEADERS = ("eta", "expires", "retries", "timelimit")
# Celery puts unknown apply_async options into the message properties.
LINK_PROPERTIES = ("creator_id", "related_content_type", "related_object_id")
#: Seconds before SQS hands back a message the stub could not store.
RETRY_DELAY = 5

INSERT_TASK = """
    INSERT INTO platform_task
        (task_id, type, input, options, parent_id, root_id, creator_id, related_content_type, related_object_id)
    VALUES (%(task_id)s, %(type)s, %(input)s, %(options)s, %(parent_id)s, %(root_id)s, %(creator_id)s,
            %(related_content_type)s, %(related_object_id)s)
    ON CONFLICT (task_id) DO NOTHING
"""
INSERT_UNDECODABLE = "INSERT INTO platform_undecodable_message (message_id, body, error) VALUES (%s, %s, %s)"


class Undecodable(Exception):
    """The message is not a Celery protocol 2 task message."""


class DatabaseUnavailable(Exception):
    """The task table cannot be written right now; the message must come back."""


def task_row(message):
    """The task row a Celery task message stands for."""
    headers = message.headers or {}
    if not headers.get("id") or not headers.get("task"):
        raise Undecodable("no task id or task name in the message headers (not a Celery protocol 2 message)")
    try:
        args, kwargs, _embed = message.decode()
    except Exception as error:
        raise Undecodable(f"body does not decode as (args, kwargs, embed): {error!r}") from error
    properties = {k: v for k, v in message.properties.items() if k not in ("delivery_info", "delivery_tag")}
    options = {**properties, **{name: headers.get(name) for name in OPTION_HEADERS}}
    return {
        "task_id": headers["id"],
        "type": headers["task"],
        "input": json.dumps({"args": args, "kwargs": kwargs}, default=str),
        "options": json.dumps(options, default=str),
        "parent_id": headers.get("parent_id"),
        "root_id": headers.get("root_id"),
        **{name: _text(properties.get(name)) for name in LINK_PROPERTIES},
    }


def _text(value):
    return None if value is None else str(value)


def message_id(message):
    """The SQS message id where the transport gives it, else kombu's delivery tag."""
    sqs = message.delivery_info.get("sqs_message") or {}
    return sqs.get("MessageId") or message.delivery_tag


class TaskTable:
    def __init__(self, dsn):
        self.dsn = dsn
        self.connection = None

    def write(self, statement, parameters):
        try:
            if self.connection is None or self.connection.closed:
                self.connection = psycopg2.connect(self.dsn, connect_timeout=5)
            with self.connection, self.connection.cursor() as cursor:
                cursor.execute(statement, parameters)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as error:
            self.close()
            raise DatabaseUnavailable(str(error).strip()) from error

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class SyncTasks(ConsumerMixin):
    def __init__(self, connection, queue, table, heartbeat_file=None):
        self.connection = connection
        self.queue = queue
        self.table = table
        self.heartbeat_file = Path(heartbeat_file) if heartbeat_file else None

    def get_consumers(self, Consumer, channel):
        # on_message gets the raw message, so a body that does not decode is ours to handle.
        return [Consumer(queues=[self.queue], on_message=self.on_message, accept=["json"], prefetch_count=10)]

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        logger.info("Consuming %s", self.queue.name)
        self.on_iteration()

    def on_iteration(self):
        if self.heartbeat_file:
            self.heartbeat_file.touch()

    def on_message(self, message):
        try:
            row = task_row(message)
        except Undecodable as error:
            self.keep_undecodable(message, error)
            return
        try:
            self.table.write(INSERT_TASK, row)
        except DatabaseUnavailable as error:
            self.retry_later(message, row["task_id"], error)
            return
        message.ack()
        logger.info("task %s %s parent=%s root=%s", row["task_id"], row["type"], row["parent_id"], row["root_id"])

    def keep_undecodable(self, message, error):
        identifier = message_id(message)
        logger.error("Cannot read message %s as a task: %s", identifier, error)
        body = message.body if isinstance(message.body, str) else repr(message.body)
        try:
            self.table.write(INSERT_UNDECODABLE, (identifier, body, str(error)))
        except DatabaseUnavailable as db_error:
            self.retry_later(message, identifier, db_error)
            return
        message.ack()

    def retry_later(self, message, identifier, error):
        logger.warning("Database unavailable (%s); message %s not acknowledged, it will come back", error, identifier)
        release(message, self.queue.name, RETRY_DELAY)


def release(message, queue_name, delay):
    """Give a message back to SQS unacknowledged: it is delivered again after ``delay`` seconds.

    Not ``message.requeue()``: on SQS kombu requeues by publishing a copy through
    this connection's exchange table and deleting the original, and this
    consumer has no bindings, so the copy would go nowhere.
    """
    info = message.delivery_info
    message.channel.sqs(queue=queue_name).change_message_visibility(
        QueueUrl=info["sqs_queue"], ReceiptHandle=info["sqs_message"]["ReceiptHandle"], VisibilityTimeout=delay
    )
    # Forget the delivery without deleting it: the SQS channel's basic_ack would delete.
    virtual.Channel.basic_ack(message.channel, message.delivery_tag)


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = Config()
    dsn = os.environ.get("PLATFORM_DATABASE_URL")
    if not dsn:
        raise SystemExit("Set PLATFORM_DATABASE_URL to the platform database (postgresql://user:pass@host:port/db).")
    queue = Queue(config.PLATFORM_QUEUE_NAME, routing_key="#")
    connection = Connection(
        config.broker_url, transport=config.broker_transport, transport_options=config.broker_transport_options
    )
    stub = SyncTasks(connection, queue, TaskTable(dsn), os.environ.get("HEARTBEAT_FILE"))
    signal.signal(signal.SIGTERM, lambda *_: setattr(stub, "should_stop", True))
    try:
        stub.run()
    finally:
        stub.table.close()
        connection.release()


if __name__ == "__main__":
    main()
