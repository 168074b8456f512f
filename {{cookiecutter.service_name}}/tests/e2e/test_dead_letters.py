"""The dead-letter command (toolbox/dead_letters.py), as the README runs it, against SQS."""

import os
import subprocess
import sys

from {{ cookiecutter.package_name }}.toolbox import setup_app

from local_stack.host import stack
from tests.e2e.probe_tasks import PRIMARY_QUEUE


def run_dead_letters(stack_env, *arguments):
    """The command as the README runs it, with the test's settings."""
    return subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}.toolbox.dead_letters", *arguments],
        cwd=stack.PROJECT_ROOT,
        env={**os.environ, **stack_env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def dead_letters(stack_env, *arguments):
    result = run_dead_letters(stack_env, *arguments)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_dead_letters_command_lists_shows_and_moves_them_back(app, sqs, stack_env):
    assert setup_app(app)
    task_id = app.send_task(f"{PRIMARY_QUEUE}.count_words", args=["dead letter"]).id
    (raw,) = sqs.client.receive_message(QueueUrl=sqs.url(PRIMARY_QUEUE), WaitTimeSeconds=5)["Messages"]
    sqs.client.send_message(QueueUrl=sqs.url(f"{PRIMARY_QUEUE}-dlq"), MessageBody=raw["Body"])
    sqs.client.delete_message(QueueUrl=sqs.url(PRIMARY_QUEUE), ReceiptHandle=raw["ReceiptHandle"])
    sqs.client.send_message(QueueUrl=sqs.url(f"{PRIMARY_QUEUE}-dlq"), MessageBody="not a task")

    listed = dead_letters(stack_env, "list")
    assert f"{stack_env['QUEUE_PREFIX']}-{PRIMARY_QUEUE}-dlq: 2 messages" in listed, listed
    shown = dead_letters(stack_env, "show", PRIMARY_QUEUE)
    assert f"task {PRIMARY_QUEUE}.count_words id {task_id}" in shown and "not a task message: 'not a task'" in shown
    assert "2 messages in" in shown
    assert "Moved 2 messages" in dead_letters(stack_env, "redrive", PRIMARY_QUEUE)
    assert sorted(m["Body"] for m in sqs.raw_messages(PRIMARY_QUEUE)) == sorted([raw["Body"], "not a task"])
    assert sqs.raw_messages(f"{PRIMARY_QUEUE}-dlq") == []
    assert f"-{PRIMARY_QUEUE}-dlq: 0 messages" in dead_letters(stack_env, "list")


def test_the_dead_letters_command_names_the_queues_it_knows(stack_env):
    result = run_dead_letters(stack_env, "show", "nosuchqueue")
    assert result.returncode == 1 and "'nosuchqueue' is not a queue this worker consumes" in result.stderr
