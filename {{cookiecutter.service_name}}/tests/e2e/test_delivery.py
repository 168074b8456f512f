"""Delivery guarantees on SQS, each shown by breaking what it protects.

Every test counts what was sent, completed, run more than once and never run,
and bounds the time to recover. Timeouts are shortened through the worker's
own settings so each scenario takes seconds, not the defaults' minutes.
"""

import base64
import contextlib
import json
import os
import signal
import time
import uuid

import psycopg2
import pytest

from {{ cookiecutter.package_name }}.toolbox.errors import MessageTooLargeError, PartialPublishError
from {{ cookiecutter.package_name }}.toolbox.results import BACKEND_PATH as RESULT_BACKEND_PATH

from local_stack.host import postgres, stack
from local_stack.host.processes import wait_until
from tests.e2e.conftest import PROBE_QUEUE
from tests.e2e.probe_tasks import PRIMARY_QUEUE

SLEEP = f"{PRIMARY_QUEUE}.e2e_sleep"
PLATFORM = "platform.fifo"
VISIBILITY = 3  # seconds: SQS_VISIBILITY_TIMEOUT for these tests
RECEIVES = 2  # SQS_MAX_RECEIVE_COUNT for these tests


@pytest.fixture
def runs(tmp_path):
    return Runs(tmp_path)


@pytest.fixture
def delivery_env(runs):
    return {
        "SQS_VISIBILITY_TIMEOUT": str(VISIBILITY),
        "SQS_MAX_RECEIVE_COUNT": str(RECEIVES),
        "E2E_REPORT_DIR": str(runs.folder),
    }


class Runs:
    """What the probe task recorded: how often each marker started and ended."""

    def __init__(self, folder):
        self.folder = folder

    def lines(self):
        path = self.folder / "runs.log"
        return path.read_text().split("\n") if path.exists() else []

    def count(self, event, marker):
        return sum(1 for line in self.lines() if line.split(" ")[:2] == [event, marker])

    def wait_for(self, event, markers, timeout):
        wait_until(
            lambda: all(self.count(event, marker) >= 1 for marker in markers),
            timeout,
            lambda: f"not every one of {markers} logged {event!r}; runs.log holds {self.lines()}",
        )


def kill_hard(worker):
    """What an OOM kill or `docker kill` does: SIGKILL to the worker and its pool, no goodbyes."""
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait()


def test_a_killed_worker_gives_its_messages_back_within_the_visibility_timeout(
    app, sqs, start_worker, runs, delivery_env
):
    # The queue exists already with SQS's hour-long timeout, as when another
    # process created it: the worker's own setting must still hold.
    sqs.client.create_queue(QueueName=f"{sqs.prefix}-{PRIMARY_QUEUE}", Attributes={"VisibilityTimeout": "3600"})
    first = start_worker(concurrency=2, **delivery_env)
    first.wait_for_log(" ready.")
    markers = [f"killed-{n}" for n in range(2)]
    for marker in markers:
        app.send_task(SLEEP, args=[marker, 4])
    runs.wait_for("start", markers, 30)
    kill_hard(first)
    killed_at = time.monotonic()
    start_worker(concurrency=2, **delivery_env)
    runs.wait_for("end", markers, 60)
    recovered = time.monotonic() - killed_at
    assert [runs.count("start", m) for m in markers] == [2, 2]  # the killed run, and one more
    assert [runs.count("end", m) for m in markers] == [1, 1]  # completed once each
    # Given back after one visibility timeout, plus the second worker's start and a task's 4 s.
    assert recovered < VISIBILITY + 15, f"took {recovered:.1f} s"
    print(f"\nkill -9: sent 2, completed 2, duplicates 0, recovered in {recovered:.1f} s")


def test_held_messages_stay_hidden_however_long_they_are_held(app, start_worker, runs, delivery_env):
    worker = start_worker(concurrency=2, **delivery_env)
    long_task = app.send_task(SLEEP, args=["long", VISIBILITY * 10])
    later = app.send_task(SLEEP, args=["later", 0], countdown=VISIBILITY * 4)
    runs.wait_for("end", ["long", "later"], VISIBILITY * 10 + 30)
    time.sleep(VISIBILITY)  # a redelivery would have shown by now
    assert (runs.count("start", "long"), runs.count("end", "long")) == (1, 1)
    assert (runs.count("start", "later"), runs.count("end", "later")) == (1, 1)
    for result in (long_task, later):
        assert worker.log().count(f"[{result.id}] received") == 1, f"{result.id} was delivered more than once"
    print(f"\nheld {VISIBILITY * 10} s task and {VISIBILITY * 4} s countdown (timeout {VISIBILITY} s): ran once each")


def raw_task_message(headers, args, queue):
    """A task message as kombu's SQS transport writes it, with the given headers."""
    body = base64.b64encode(json.dumps([args, {}, {}]).encode()).decode()
    envelope = {
        "body": body,
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": headers,
        "properties": {
            "body_encoding": "base64",
            "delivery_info": {"exchange": "", "routing_key": queue},
            "delivery_tag": str(uuid.uuid4()),
            "priority": 0,
        },
    }
    return base64.b64encode(json.dumps(envelope).encode()).decode()


def test_messages_the_worker_cannot_read_go_to_the_dead_letter_queue(app, sqs, start_worker, runs, delivery_env):
    worker = start_worker(**delivery_env)
    worker.wait_for_log(" ready.")
    url = sqs.url(PRIMARY_QUEUE)
    bodies = {
        "no task id": raw_task_message({"task": SLEEP, "lang": "py"}, ["no-id", 0], PRIMARY_QUEUE),
        "not JSON": "this is not a task",
        "JSON, not a task": json.dumps({"hello": "world"}),
    }
    sent = {name: sqs.client.send_message(QueueUrl=url, MessageBody=body)["MessageId"] for name, body in bodies.items()}
    dead_letters = f"{PRIMARY_QUEUE}-dlq"
    # Each look hides what it sees for a second, and the three arrive at different moments: looks
    # every 0.3 s can fall into step and never see all three at once. What reached the queue stays.
    seen = set()

    def all_dead_lettered():
        seen.update(m["MessageId"] for m in sqs.raw_messages(dead_letters))
        return set(sent.values()) <= seen

    wait_until(
        all_dead_lettered,
        60,
        lambda: f"not all of {sent} reached {dead_letters} (seen {seen}); the worker log ends:\n{worker.log()[-3000:]}",
    )
    assert worker.process.poll() is None, "the worker died"
    for message_id in sent.values():
        assert f"Message {message_id} from" in worker.log() and "ERROR" in worker.log()
    assert "Unrecoverable error" not in worker.log()
    after = app.send_task(SLEEP, args=["after-bad-messages", 0])
    runs.wait_for("end", ["after-bad-messages"], 30)
    assert after.id in worker.log()
    print(f"\nunreadable: sent {len(sent)}, dead-lettered {len(sent)}, worker alive")


def test_a_message_too_large_for_a_queue_is_refused_before_anything_is_sent(app, sqs):
    setup_queues(app)
    sqs.client.set_queue_attributes(QueueUrl=sqs.url(PROBE_QUEUE), Attributes={"MaximumMessageSize": "2048"})
    task_id = str(uuid.uuid4())
    with pytest.raises(MessageTooLargeError, match=f"{PROBE_QUEUE} takes 2048. Nothing was sent"):
        app.send_task(f"{PROBE_QUEUE}.echo", args=["x" * 4000], task_id=task_id)
    marker = app.send_task(f"{PROBE_QUEUE}.echo", args=["small"])
    sqs.wait_for(PLATFORM, marker.id)
    sqs.wait_for(PROBE_QUEUE, marker.id)
    assert task_id not in sqs.messages(PLATFORM) and task_id not in sqs.messages(PROBE_QUEUE)


def test_a_copy_refused_after_the_platforms_is_a_loud_error_naming_what_was_sent(app, sqs, caplog):
    setup_queues(app)
    with app.connection_for_write() as connection:
        app.send_task(f"{PROBE_QUEUE}.echo", args=["learns the limits"], connection=connection)
        # The queue's limit drops after this connection read it: SQS itself refuses the copy.
        sqs.client.set_queue_attributes(QueueUrl=sqs.url(PROBE_QUEUE), Attributes={"MaximumMessageSize": "2048"})
        task_id = str(uuid.uuid4())
        with pytest.raises(PartialPublishError, match=f"sent to {PLATFORM}, but not to {PROBE_QUEUE}") as raised:
            app.send_task(f"{PROBE_QUEUE}.echo", args=["y" * 4000], task_id=task_id, connection=connection)
    assert raised.value.sent == [PLATFORM] and raised.value.task_id == task_id
    assert f"Task {task_id}: sent to {PLATFORM} but not to {PROBE_QUEUE}" in caplog.text
    sqs.wait_for(PLATFORM, task_id)
    assert task_id not in sqs.messages(PROBE_QUEUE)


@pytest.mark.parametrize("task_id", ["has a space", 'it\'s "quoted"', "x" * 140])
def test_task_ids_sqs_refuses_as_group_ids_still_publish(app, sqs, task_id):
    app.send_task(f"{PROBE_QUEUE}.echo", args=["odd id"], task_id=task_id)
    assert sqs.wait_for(PLATFORM, task_id)["headers"]["id"] == task_id
    sqs.wait_for(PROBE_QUEUE, task_id)


@pytest.fixture
def results_database():
    """A Postgres of this test's own, with the stack's SQL, that the test may stop and start."""
    values = stack.settings()
    database = stack.environment("postgres", values)
    name = database["POSTGRES_DB"]
    with postgres.running(stack.init_sql_dir(), name, database) as server:
        credentials = f"cadasta_worker:{values['RESULT_DB_PASS']}@{server.host}:{server.port}/{name}"
        server.dsn = f"postgresql://{credentials}"
        server.result_backend = f"{RESULT_BACKEND_PATH}+postgresql+psycopg2://{credentials}"
        yield server


def states(dsn, task_ids):
    with contextlib.closing(psycopg2.connect(dsn)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT task_id, status FROM celery_taskmeta WHERE task_id = ANY(%s)", (list(task_ids),))
        return dict(cursor.fetchall())


def test_a_task_whose_result_cannot_be_stored_runs_again_when_the_database_is_back(
    app, sqs, start_worker, runs, results_database
):
    outage = 12  # seconds
    environment = {"E2E_REPORT_DIR": str(runs.folder), "CELERY_RESULT_BACKEND": results_database.result_backend}
    worker = start_worker(concurrency=2, **environment)
    worker.wait_for_log(" ready.")
    before = {app.send_task(SLEEP, args=[f"before-{n}", 3]).id: f"before-{n}" for n in range(4)}
    runs.wait_for("start", ["before-0", "before-1"], 30)
    results_database.stop()  # two tasks are running, two wait
    during = {app.send_task(SLEEP, args=[f"during-{n}", 1]).id: f"during-{n}" for n in range(4)}
    time.sleep(outage)
    results_database.start()
    back_at = time.monotonic()
    sent = {**before, **during}

    def all_stored():
        found = states(results_database.dsn, sent)
        return found if len(found) == len(sent) and set(found.values()) == {"SUCCESS"} else None

    stored = wait_until(all_stored, 120, lambda: f"results stored: {states(results_database.dsn, sent)}")
    recovered = time.monotonic() - back_at
    assert worker.process.poll() is None, "the worker exited; it should ride out the outage"
    assert "could not store its" in worker.log()
    assert sqs.raw_messages(f"{PRIMARY_QUEUE}-dlq") == []
    completed = {marker: runs.count("end", marker) for marker in sent.values()}
    assert all(count >= 1 for count in completed.values()), completed
    again = sorted(marker for marker, count in completed.items() if count > 1)
    print(
        f"\nresult database down {outage} s: sent {len(sent)}, stored {len(stored)} SUCCESS, lost 0, "
        f"stuck 0, run again {len(again)} {again}, all stored {recovered:.1f} s after it came back"
    )


def setup_queues(app):
    from {{ cookiecutter.package_name }}.toolbox import setup_app

    assert setup_app(app) is True
