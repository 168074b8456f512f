"""The dead-letter command (toolbox/dead_letters.py), offline against an in-memory SQS; tests/e2e/ runs it on SQS."""

import base64
import json

import pytest

from {{ cookiecutter.package_name }} import app
from {{ cookiecutter.package_name }}.toolbox import dead_letters

QUEUE = app.conf.WORKER_QUEUES[0]
PREFIX = app.conf.broker_transport_options["queue_name_prefix"]


@pytest.fixture
def sqs(channel_sqs):
    """The in-memory SQS with this worker's queues and their dead-letter queues."""
    for name in app.conf.WORKER_QUEUES:
        channel_sqs.create_queue(QueueName=f"{PREFIX}{name}")
        channel_sqs.create_queue(QueueName=f"{PREFIX}{name}-dlq")
    return channel_sqs


def task_message(task_id):
    envelope = {"headers": {"task": f"{QUEUE}.count_words", "id": task_id}, "body": '[["x"], {}, {}]'}
    return base64.b64encode(json.dumps(envelope).encode()).decode()


def dead(sqs, body):
    sqs.send_message(QueueUrl=f"https://sqs.memory/{PREFIX}{QUEUE}-dlq", MessageBody=body)


def test_list_show_and_redrive(sqs, capsys):
    dead(sqs, task_message("task-1"))
    dead(sqs, "not a task")
    assert dead_letters.main(["list"]) == 0
    assert f"{PREFIX}{QUEUE}-dlq: 2 messages" in capsys.readouterr().out
    assert dead_letters.main(["show", QUEUE]) == 0
    shown = capsys.readouterr().out
    assert f"task {QUEUE}.count_words id task-1" in shown and "not a task message: 'not a task'" in shown
    assert len(sqs.queues[f"https://sqs.memory/{PREFIX}{QUEUE}-dlq"]) == 2  # shown, left where they were
    assert dead_letters.main(["redrive", QUEUE]) == 0
    assert "Moved 2 messages" in capsys.readouterr().out
    assert sqs.queues[f"https://sqs.memory/{PREFIX}{QUEUE}-dlq"] == {}
    assert len(sqs.queues[f"https://sqs.memory/{PREFIX}{QUEUE}"]) == 2


def test_a_queue_this_worker_does_not_consume_is_refused_by_name(sqs):
    with pytest.raises(SystemExit, match="'nosuchqueue' is not a queue this worker consumes"):
        dead_letters.main(["show", "nosuchqueue"])
