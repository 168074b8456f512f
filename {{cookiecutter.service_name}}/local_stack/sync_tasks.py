"""A stand-in for the platform's sync-tasks process.

Consumes the platform queue and gets-or-creates one task row per task id, as
the platform does: type, input {args, kwargs}, options (message properties plus
the eta, expires, retries and timelimit headers), parent, root, and creator and
related object when the properties carry them.

- In batches: what one receive brings (up to ten messages) is stored in one
  transaction, then deleted from SQS in one request. A batch is stored while
  the next is received, and batches are committed in the order received.
- Idempotent: the same message twice makes one row.
- The database unreachable: the message is not acknowledged; SQS delivers it
  again after a delay that grows with each receive (the worker's rule,
  toolbox/sqs/lifecycle.py), until the row is stored.
- A message that is not a Celery task message, or that the task table refuses
  (a value too long, a character Postgres cannot store), is logged with its id,
  kept in platform_undecodable_message, and acknowledged; the stub goes on.

    python -m local_stack.sync_tasks     # configured from the environment, like the worker
"""

import base64
import contextlib
import json
import logging
import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import NoneType

import psycopg2
from kombu import Connection, Queue
from kombu.mixins import ConsumerMixin
from psycopg2.extras import execute_values

from {{ cookiecutter.package_name }}.toolbox import Config
from {{ cookiecutter.package_name }}.toolbox.contract import CATCH_ALL
from {{ cookiecutter.package_name }}.toolbox.heartbeat import INTERVAL as HEARTBEAT_INTERVAL
from {{ cookiecutter.package_name }}.toolbox.sqs.queues import OWNED_OPTION
from {{ cookiecutter.package_name }}.toolbox.upstream import sqs_delivery

logger = logging.getLogger("sync_tasks")

OPTION_HEADERS = ("eta", "expires", "retries", "timelimit")
# Celery puts unknown apply_async options into the message properties.
LINK_PROPERTIES = ("creator_id", "related_content_type", "related_object_id")
#: After a failed connection attempt, messages are given back without trying
#: again for this long, so a batch does not wait out one timeout per message.
RECONNECT_PAUSE = 2.0
#: A NUL character as JSON escapes it: \u0000 after an even number of backslashes.
ESCAPED_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")
#: Columns of platform_task that hold text of at most this many characters.
LINK_COLUMN_LENGTH = 255
#: The most one receive brings (SQS's limit). The stub holds two such batches at most: one being
#: stored, one being received.
BATCH = 10

#: One statement for every row of a batch; the same task twice in it is still one row.
INSERT_TASKS = """
    INSERT INTO platform_task
        (task_id, type, input, options, parent_id, root_id, creator_id, related_content_type, related_object_id)
    VALUES %s
    ON CONFLICT (task_id) DO NOTHING
"""
TASK_VALUES = """(%(task_id)s, %(type)s, %(input)s, %(options)s, %(parent_id)s, %(root_id)s, %(creator_id)s,
    %(related_content_type)s, %(related_object_id)s)"""
INSERT_UNDECODABLE = "INSERT INTO platform_undecodable_message (message_id, body, error) VALUES (%s, %s, %s)"


class UndecodableError(Exception):
    """The message is not a Celery protocol 2 task message, or not one the task table can hold."""


class DatabaseUnavailableError(Exception):
    """The task table cannot be written right now; the message must come back."""


class StopRequestedError(Exception):
    """Asked to stop (SIGTERM) while waiting to reach SQS: nothing is held, so nothing is left to finish."""


def task_row(message):
    """The task row a Celery task message stands for."""
    headers = message.headers
    if not isinstance(headers, dict) or not headers.get("id") or not headers.get("task"):
        raise UndecodableError("no task id or task name in the message headers (not a Celery protocol 2 message)")
    identities = ("id", "task", "parent_id", "root_id")
    wrong = [name for name in identities if not isinstance(headers.get(name), (str, NoneType))]
    if wrong:
        raise UndecodableError(f"headers {', '.join(wrong)} are not task ids or names")
    try:
        args, kwargs, _embed = message.decode()
    except Exception as error:
        raise UndecodableError(f"body does not decode as (args, kwargs, embed): {error!r}") from error
    properties = {k: v for k, v in message.properties.items() if k not in ("delivery_info", "delivery_tag")}
    options = {**properties, **{name: headers.get(name) for name in OPTION_HEADERS}}
    links = {name: _text(properties.get(name)) for name in LINK_PROPERTIES}
    row = {
        "task_id": headers["id"],
        "type": headers["task"],
        "input": json.dumps({"args": args, "kwargs": kwargs}, default=str),
        "options": json.dumps(options, default=str),
        "parent_id": headers.get("parent_id"),
        "root_id": headers.get("root_id"),
        **links,
    }
    return fitted(row, links)


def fitted(row, links):
    """The row with what the table cannot hold as it is made to fit, the originals kept in its options.

    jsonb holds no NUL character, not even escaped: such input and options are
    stored with NUL shown as the text "\\u0000", and their exact JSON text is
    kept under options["original"]. Link columns hold 255 characters: longer
    values are cut, and kept whole there too.
    """
    original = {}
    for column in ("input", "options"):
        # The substring test first: the pattern's look-behind at every position cost more than the rest of the row.
        if "\\u0000" in row[column] and ESCAPED_NUL.search(row[column]):
            original[column] = row[column]
            row[column] = ESCAPED_NUL.sub(r"\1\\\\u0000", row[column])
    for name, value in links.items():
        if value is not None and len(value) > LINK_COLUMN_LENGTH:
            original[name] = value
            row[name] = value[:LINK_COLUMN_LENGTH]
    if original:
        options = json.loads(row["options"])
        options["original"] = original
        row["options"] = json.dumps(options)
    return row


def _text(value):
    return None if value is None else str(value)


def message_id(message):
    """The SQS message id where the transport gives it, else kombu's delivery tag."""
    _, sqs = sqs_delivery(message) or (None, {})
    return sqs.get("MessageId") or message.delivery_tag


class TaskTable:
    def __init__(self, dsn):
        self.dsn = dsn
        self.connection = None
        self.retry_at = 0.0

    def insert_tasks(self, rows):
        """Store ``rows`` in one transaction (see ``run``)."""
        self.run(lambda cursor: execute_values(cursor, INSERT_TASKS, rows, template=TASK_VALUES, page_size=len(rows)))

    def keep_undecodable(self, message_id, body, error):
        self.run(lambda cursor: cursor.execute(INSERT_UNDECODABLE, (message_id, body, error)))

    def run(self, statements):
        """Run ``statements(cursor)`` in one transaction.

        Raises DatabaseUnavailableError when the database cannot be reached, and
        UndecodableError when it refuses these values (they never will fit).
        """
        if self.connection is None and time.monotonic() < self.retry_at:
            raise DatabaseUnavailableError("still unreachable a moment ago")
        try:
            if self.connection is None:
                self.connection = psycopg2.connect(self.dsn, connect_timeout=5)
            with self.connection, self.connection.cursor() as cursor:
                statements(cursor)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as error:
            self.close()
            self.retry_at = time.monotonic() + RECONNECT_PAUSE
            raise DatabaseUnavailableError(str(error).strip()) from error
        except (psycopg2.DataError, psycopg2.IntegrityError, ValueError) as error:
            # ValueError: psycopg2 refuses NUL characters before sending anything.
            raise UndecodableError(f"the task table refuses it: {str(error).strip()}") from error

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
        self.channel = None
        self.answered_at = time.monotonic()
        self.touched_at = float("-inf")
        self.batch = []  # messages received and not yet handed to the storing thread
        self.storer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self.storing = None  # the batch being stored, as a Future

    @contextlib.contextmanager
    def establish_connection(self):
        """kombu's, but a stop asked for ends the wait for SQS: kombu retries the connection for
        ever and looks at should_stop only between receives, so SIGTERM would wait for SIGKILL."""
        with self.create_connection() as connection:
            connection.ensure_connection(
                self.on_connection_error, self.connect_max_retries, callback=self.stop_if_asked
            )
            yield connection

    def stop_if_asked(self):
        if self.should_stop:
            raise StopRequestedError

    def get_consumers(self, Consumer, channel):
        # on_message gets the raw message, so a body that does not decode is ours to handle.
        return [Consumer(queues=[self.queue], on_message=self.received, accept=["json"], prefetch_count=2 * BATCH)]

    def received(self, message):
        self.batch.append(message)  # stored with the rest of its receive, once on_iteration hands it over

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        logger.info("Consuming %s", self.queue.name)
        self.channel = channel
        self.on_iteration()

    def on_iteration(self):
        """Called between receives: hand what the last one brought to be stored, then touch the heartbeat file."""
        self.hand_over_batch()
        # kombu reconnects on every failure, and each new channel starts afresh,
        # so the last answer is remembered across channels.
        answered = getattr(self.channel, "alive_at", None)
        if answered is not None:
            self.answered_at = max(self.answered_at, answered)
        window = self.channel.consuming_window() if hasattr(self.channel, "consuming_window") else float("inf")
        # Touched as often as the worker's heartbeat, not on every receive (a file system call per batch).
        now = time.monotonic()
        if self.heartbeat_file and now - self.answered_at <= window and now - self.touched_at >= HEARTBEAT_INTERVAL:
            self.heartbeat_file.touch()
            self.touched_at = now

    @contextlib.contextmanager
    def extra_context(self, connection, channel):
        """Around each connection's consuming, however it ends (stopping, Ctrl-C, a lost connection):
        what was received is stored and acknowledged, or given back, before the connection closes."""
        try:
            yield
        finally:
            try:
                self.hand_over_batch()
                self.finish_storing()
            except Exception:
                # Not stored, or not acknowledged: SQS delivers those messages again.
                logger.exception("Could not finish storing the last batch before the connection closed")

    def hand_over_batch(self):
        """Store the last receive's messages in the storing thread, once the batch before is committed:
        receiving goes on meanwhile, and batches are committed in the order received."""
        self.finish_storing()
        messages, self.batch = self.batch, []
        if messages:
            self.storing = self.storer.submit(self.store_batch, messages)

    def finish_storing(self):
        if self.storing is not None:
            storing, self.storing = self.storing, None
            storing.result()

    def store_batch(self, messages):
        """Store one receive's messages in one transaction, then acknowledge them.

        The transport deletes acknowledged messages from SQS in one
        DeleteMessageBatch. When the table refuses the batch, each message is
        stored on its own, so only those it refuses are kept aside.
        """
        rows = []
        for message in messages:
            try:
                rows.append((message, task_row(message)))
            except UndecodableError as error:
                self.keep(message, message_id(message), error)
        if not rows:
            return
        try:
            self.table.insert_tasks([row for _, row in rows])
        except UndecodableError:
            for message, row in rows:
                self.store_one(message, row)
            return
        except DatabaseUnavailableError as error:
            for message, row in rows:
                self.give_back(message, row["task_id"], error)
            return
        for message, row in rows:
            self.stored(message, row)

    def store_one(self, message, row):
        try:
            self.table.insert_tasks([row])
        except UndecodableError as error:
            self.keep(message, row["task_id"], error)
        except DatabaseUnavailableError as error:
            self.give_back(message, row["task_id"], error)
        else:
            self.stored(message, row)

    @staticmethod
    def stored(message, row):
        logger.info("task %s %s parent=%s root=%s", row["task_id"], row["type"], row["parent_id"], row["root_id"])
        message.ack()

    def keep(self, message, identifier, error):
        """Keep a message that is not a task the table can hold in platform_undecodable_message, and go on."""
        logger.error("Cannot store message %s as a task: %s", identifier, error)
        body = readable(message.body)
        try:
            self.table.keep_undecodable(message_id(message), body.replace("\x00", "\\0"), str(error))
        except UndecodableError as refused:
            # Not even the record of it fits: this log line is all that is left of it.
            logger.error("Cannot keep message %s (%s); its body was: %r", message_id(message), refused, body)
        except DatabaseUnavailableError as unavailable:
            self.give_back(message, identifier, unavailable)
            return
        message.ack()

    @staticmethod
    def give_back(message, identifier, error):
        """Not acknowledged: the toolbox's channel gives it back to SQS as the worker's are given back, to be
        delivered again after a delay that grows with its receives (toolbox/sqs/lifecycle.py)."""
        logger.warning("Database unavailable (%s); message %s not acknowledged, it comes back", error, identifier)
        message.requeue()


def readable(body):
    """The body as text, unchanged where it is UTF-8, losslessly as base64 where not."""
    if isinstance(body, bytes):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return "base64:" + base64.b64encode(body).decode("ascii")
    return str(body)


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = Config()
    dsn = os.environ.get("PLATFORM_DATABASE_URL")
    if not dsn:
        raise SystemExit("Set PLATFORM_DATABASE_URL to the platform database (postgresql://user:pass@host:port/db).")
    queue = Queue(config.PLATFORM_QUEUE_NAME, routing_key=CATCH_ALL)
    # The toolbox's transport sets the visibility timeout (SQS_VISIBILITY_TIMEOUT) on
    # every receive, so a stub that dies gives its messages back within it,
    # whoever created the queue and with whatever timeout.
    # The stub owns the platform queue: it consumes it, as a worker its own (toolbox/sqs/queues.py).
    options = {**config.broker_transport_options, OWNED_OPTION: [config.PLATFORM_QUEUE_NAME]}
    connection = Connection(config.broker_url, transport=config.broker_transport, transport_options=options)
    stub = SyncTasks(connection, queue, TaskTable(dsn), os.environ.get("HEARTBEAT_FILE"))
    signal.signal(signal.SIGTERM, lambda *_: setattr(stub, "should_stop", True))
    # A shell without job control starts background commands with SIGINT ignored, and the
    # children inherit that: Ctrl-C (or a script's SIGINT) must still stop the stub.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        stub.run()
    except KeyboardInterrupt:  # Ctrl-C: the batch in hand was stored on the way out (extra_context)
        logger.info("Interrupted; stopping.")
    except StopRequestedError:
        logger.info("Stopped while waiting for SQS.")
    finally:
        stub.storer.shutdown(wait=True)
        stub.table.close()
        connection.release()


if __name__ == "__main__":
    main()
