"""Look at the dead-letter queues of the queues this worker consumes, and move their messages back.

    python -m <package>.toolbox.dead_letters list              # every dead-letter queue and what it holds
    python -m <package>.toolbox.dead_letters show QUEUE        # the messages in QUEUE's dead-letter queue
    python -m <package>.toolbox.dead_letters redrive QUEUE     # move them back to QUEUE, to run again

QUEUE is one of WORKER_QUEUES, named without the prefix. The settings are the
worker's own (the environment, CELERY_BROKER_URL and QUEUE_PREFIX included),
so one command works against `make stack`, `docker compose up` and AWS. It
needs an operator's access, not the worker's: reading and deleting from the
dead-letter queues, and sending to the queues.
"""

import argparse
import base64
import binascii
import datetime
import json
import sys
from collections.abc import Iterator
from typing import Any

from kombu.utils.imports import symbol_by_name

from .contract import dead_letter_name
from .sqs.quotas import BATCH

#: Seconds a message shown is hidden while it is read, before it is made visible again.
READ_VISIBILITY = 30
#: The most messages ``show`` prints unless told otherwise.
SHOW_AT_MOST = 10


class DeadLetters:
    """The dead-letter queues of one app, through the SQS client its transport would use."""

    def __init__(self, app: Any):
        self.app = app
        self.connection = app.connection_for_write()
        self.channel = self.connection.channel()
        self.client = self.channel.sqs()

    def close(self) -> None:
        self.channel.close()
        self.connection.release()

    def sqs_name(self, name: str) -> str:
        """The queue's name in SQS, its prefix included."""
        return self.channel.canonical_queue_name(name)

    def url(self, name: str) -> str:
        return self.client.get_queue_url(QueueName=self.sqs_name(name))["QueueUrl"]

    def owned(self, queue: str) -> str:
        """``queue``, if this worker consumes it; else a clear error naming those it does."""
        if queue not in self.app.conf.WORKER_QUEUES:
            raise SystemExit(
                f"{queue!r} is not a queue this worker consumes; its dead-letter queues are those of "
                f"{', '.join(self.app.conf.WORKER_QUEUES)} (WORKER_QUEUES)."
            )
        return queue

    def counts(self) -> Iterator[tuple[str, int, int]]:
        """(dead-letter queue's SQS name, messages waiting, messages being read) for each queue consumed."""
        for queue in self.app.conf.WORKER_QUEUES:
            name = dead_letter_name(queue)
            attributes = self.client.get_queue_attributes(
                QueueUrl=self.url(name),
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            yield (
                self.sqs_name(name),
                int(attributes["ApproximateNumberOfMessages"]),
                int(attributes["ApproximateNumberOfMessagesNotVisible"]),
            )

    def read(self, queue: str, at_most: int) -> list[dict]:
        """Up to ``at_most`` messages of ``queue``'s dead-letter queue, left there and visible again."""
        url = self.url(dead_letter_name(self.owned(queue)))
        found: dict[str, dict] = {}
        while len(found) < at_most:
            batch = self.receive(url, min(BATCH, at_most - len(found)))
            fresh = [message for message in batch if message["MessageId"] not in found]
            if not fresh:
                break
            found.update((message["MessageId"], message) for message in fresh)
        for message in found.values():
            self.client.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        return list(found.values())

    def redrive(self, queue: str) -> int:
        """Move every message of ``queue``'s dead-letter queue back to ``queue``; return how many."""
        source, target = self.url(dead_letter_name(self.owned(queue))), self.url(queue)
        moved = 0
        while batch := self.receive(source, BATCH):
            for message in batch:
                # Sent before it is deleted: a move cut short leaves a copy in both queues, never in neither.
                self.client.send_message(QueueUrl=target, MessageBody=message["Body"], **attributes_of(message))
                self.client.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
        return moved

    def receive(self, url: str, count: int) -> list[dict]:
        return self.client.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=count,
            VisibilityTimeout=READ_VISIBILITY,
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])


def attributes_of(message: dict) -> dict:
    attributes = message.get("MessageAttributes")
    return {"MessageAttributes": attributes} if attributes else {}


def describe(message: dict) -> str:
    """One message in a line: its id, receives, when it was sent, and the task it carries, if it is one."""
    system = message.get("Attributes", {})
    sent = datetime.datetime.fromtimestamp(int(system.get("SentTimestamp", 0)) / 1000, datetime.UTC)
    receives = system.get("ApproximateReceiveCount", "?")
    head = f"{message['MessageId']}  received {receives} times, sent {sent:%Y-%m-%d %H:%M:%S} UTC"
    task = task_of(message["Body"])
    if task is None:
        return f"{head}\n    not a task message: {message['Body'][:200]!r}"
    headers, body = task
    return f"{head}\n    task {headers.get('task')} id {headers.get('id')}: {body[:200]}"


def task_of(body: str) -> tuple[dict, str] | None:
    """(headers, body as text) of a Celery task message in kombu's SQS envelope, or None."""
    try:
        envelope = json.loads(base64.b64decode(body, validate=True))
        headers = envelope["headers"]
        payload = envelope["body"]
        if envelope.get("properties", {}).get("body_encoding") == "base64":
            payload = base64.b64decode(payload).decode("utf-8", "replace")
        return (headers, payload) if isinstance(headers, dict) and "task" in headers else None
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        return None


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every dead-letter queue of the queues this worker consumes")
    show = commands.add_parser("show", help="the messages in a queue's dead-letter queue, left where they are")
    show.add_argument("queue")
    show.add_argument("--max", type=int, default=SHOW_AT_MOST, help=f"how many at most (default {SHOW_AT_MOST})")
    redrive = commands.add_parser("redrive", help="move a queue's dead letters back to it, to run again")
    redrive.add_argument("queue")
    arguments = parser.parse_args(argv)
    app = symbol_by_name(f"{__package__.rsplit('.', 1)[0]}.celery:app")
    dead_letters = DeadLetters(app)
    try:
        if arguments.command == "list":
            for name, waiting, reading in dead_letters.counts():
                print(f"{name}: {plural(waiting, 'message')}" + (f" ({reading} being read)" if reading else ""))
            return 0
        dead_letter_queue = dead_letters.sqs_name(dead_letter_name(arguments.queue))
        if arguments.command == "show":
            messages = dead_letters.read(arguments.queue, arguments.max)
            for message in messages:
                print(describe(message))
            print(f"{plural(len(messages), 'message')} in {dead_letter_queue}")
        else:
            moved = plural(dead_letters.redrive(arguments.queue), "message")
            print(f"Moved {moved} from {dead_letter_queue} back to {dead_letters.sqs_name(arguments.queue)}.")
    finally:
        dead_letters.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
