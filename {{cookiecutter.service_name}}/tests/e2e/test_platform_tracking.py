"""The platform sees every task and every result, as the real platform would.

Tasks go through real SQS to the real worker; the sync-tasks stub stores task
rows; the worker stores results in Postgres through its own restricted role.
"""

import contextlib
import json
import os
import signal
import socket
import time
import uuid

import psycopg2
import pytest
from celery import chain

from {{ cookiecutter.package_name }}.tasks import QUEUE

from local_stack.host.processes import wait_until
from tests.e2e.conftest import HostPlatform, producer_app

COUNT_WORDS = f"{QUEUE}.count_words"
TOP_WORDS = f"{QUEUE}.top_words"
PLATFORM = "platform.fifo"


def test_a_task_from_a_producer_is_tracked_with_its_result(platform, producer):
    sent = producer.send_task(COUNT_WORDS, args=["b a b"], kwargs={}, creator_id=7)
    row = platform.wait_for_task_and_result(sent.id)
    assert row["type"] == COUNT_WORDS
    assert row["input"] == {"args": ["b a b"], "kwargs": {}}
    assert row["parent_id"] is None and row["root_id"] == sent.id
    assert row["result"] == {"a": 1, "b": 2}
    (task,) = platform.query("SELECT creator_id, options FROM platform_task WHERE task_id = %s", sent.id)
    assert task["creator_id"] == "7"
    assert {"eta", "expires", "retries", "timelimit"} <= set(task["options"])


def test_a_failing_task_records_failure_and_its_traceback(platform, producer):
    sent = producer.send_task(COUNT_WORDS, args=[None])
    row = platform.wait_for_task_and_result(sent.id, status="FAILURE")
    assert "AttributeError" in row["traceback"]
    assert row["result"]["exc_type"] == "AttributeError"
    assert row["input"] == {"args": [None], "kwargs": {}}


def test_a_chain_is_tracked_member_by_member(platform, producer):
    last = chain(producer.signature(COUNT_WORDS, args=["x y x"]), producer.signature(TOP_WORDS, args=[1])).apply_async()
    first = last.parent
    first_row = platform.wait_for_task_and_result(first.id)
    last_row = platform.wait_for_task_and_result(last.id)
    assert (first_row["parent_id"], first_row["root_id"]) == (None, first.id)
    assert (last_row["parent_id"], last_row["root_id"]) == (first.id, first.id)
    assert last_row["result"] == [["x", 2]]


def test_follow_up_tasks_sent_from_a_running_task_are_tracked(platform, producer):
    report = producer.send_task(f"{QUEUE}.report_top_words", args=["a b b c c c", 2])
    report_row = platform.wait_for_task_and_result(report.id)
    last_id = report_row["result"]  # the id of the report's last step
    last_row = platform.wait_for_task_and_result(last_id)
    counting_id = last_row["parent_id"]
    counting_row = platform.wait_for_task_and_result(counting_id)
    assert counting_row["type"] == COUNT_WORDS and counting_row["parent_id"] == report.id
    assert last_row["type"] == TOP_WORDS and last_row["result"] == [["c", 3], ["b", 2]]
    assert {counting_row["root_id"], last_row["root_id"]} == {report.id}


def test_a_failure_early_in_handed_over_work_reaches_the_parents_errback(platform, producer):
    # The errback is a task: Celery sends it with the failed task's id as its argument.
    errback = producer.signature(COUNT_WORDS)
    report = producer.send_task(f"{QUEUE}.report_top_words", args=[None, 2], link_error=errback)
    platform.wait_for_task_and_result(report.id)  # the report itself only hands over
    (counting,) = wait_until(
        lambda: platform.query("SELECT task_id FROM platform_task WHERE parent_id = %s", report.id),
        60,
        lambda: "the report's first step was never sent",
    )
    platform.wait_for_task_and_result(counting["task_id"], status="FAILURE")
    called = "SELECT task_id FROM platform_task WHERE type = %s AND input -> 'args' ->> 0 = %s"
    wait_until(
        lambda: platform.query(called, COUNT_WORDS, counting["task_id"]),
        60,
        lambda: "the errback was not called for the failed first step",
    )


def test_a_result_stored_before_its_task_row_is_joined_later(platform, producer):
    platform.stop_sync_tasks()
    try:
        sent = producer.send_task(COUNT_WORDS, args=["early result"])
        early = platform.wait_until(sent.id, lambda row: row["status"] == "SUCCESS")
        assert early["type"] is None, "the task row exists although sync-tasks is stopped"
    finally:
        platform.start_sync_tasks()
    row = platform.wait_for_task_and_result(sent.id)
    assert row["type"] == COUNT_WORDS and row["result"] == {"early": 1, "result": 1}


def test_the_same_message_twice_makes_one_task_row(platform, producer):
    task_id = str(uuid.uuid4())
    headers, properties, body, _ = producer.amqp.as_task_v2(task_id, COUNT_WORDS, args=["twice"], kwargs={})
    platform_queue = producer.amqp.queues[PLATFORM]
    with producer.connection_for_write() as connection:
        publisher = connection.Producer(serializer="json")
        for _ in range(2):  # straight to the platform queue, so the worker does not run it
            publisher.publish(
                body, exchange="", routing_key=PLATFORM, headers=headers, declare=[platform_queue], **properties
            )
    platform.wait_until(task_id, lambda row: row["type"] is not None)
    wait_until(lambda: platform.sqs.is_drained(PLATFORM), 60, lambda: "sync-tasks never finished the platform queue")
    assert platform.query("SELECT count(*) AS n FROM platform_task WHERE task_id = %s", task_id) == [{"n": 1}]


def test_an_undecodable_message_is_kept_and_sync_tasks_goes_on(platform, producer):
    sent = platform.sqs.client.send_message(
        QueueUrl=platform.sqs.url(PLATFORM),
        MessageBody="this is not a task",
        MessageGroupId="garbage",
        MessageDeduplicationId=str(uuid.uuid4()),
    )
    kept = "SELECT body FROM platform_undecodable_message WHERE message_id = %s"
    rows = wait_until(
        lambda: platform.query(kept, sent["MessageId"]), 60, lambda: "the undecodable message was not kept"
    )
    assert rows == [{"body": "this is not a task"}]
    after = producer.send_task(COUNT_WORDS, args=["still here"])
    platform.wait_for_task_and_result(after.id)


def test_a_message_whose_headers_are_not_task_ids_is_kept(platform, producer):
    marker = f"bad-headers-{uuid.uuid4()}"
    with producer.connection_for_write() as connection:
        connection.Producer(serializer="json").publish(
            [[marker], {}, {}],
            exchange="",
            routing_key=PLATFORM,
            headers={"id": {"not": "an id"}, "task": COUNT_WORDS},
            declare=[producer.amqp.queues[PLATFORM]],
        )
    kept = "SELECT error FROM platform_undecodable_message WHERE body LIKE %s"
    rows = wait_until(lambda: platform.query(kept, f"%{marker}%"), 60, lambda: "the message was not kept")
    assert "headers id are not task ids or names" in rows[0]["error"]
    after = producer.send_task(COUNT_WORDS, args=["still consuming"])
    platform.wait_for_task_and_result(after.id)


def test_values_the_table_cannot_hold_are_stored_in_a_form_that_fits(platform, producer):
    # jsonb holds no NUL; related_object_id holds 255 characters. The task runs either way: it must be tracked.
    long_link = "r" * 300
    sent = producer.send_task(COUNT_WORDS, args=["nul \x00 here"], related_object_id=long_link)
    row = platform.wait_for_task_and_result(sent.id)
    assert row["input"] == {"args": ["nul \\u0000 here"], "kwargs": {}}
    (task,) = platform.query("SELECT related_object_id, options FROM platform_task WHERE task_id = %s", sent.id)
    assert task["related_object_id"] == long_link[:255]
    original = task["options"]["original"]
    assert json.loads(original["input"]) == {"args": ["nul \x00 here"], "kwargs": {}}
    assert original["related_object_id"] == long_link


def test_a_task_the_table_refuses_is_kept_and_sync_tasks_goes_on(platform, producer):
    task_id, marker = "t" * 200, f"too-long-id-{uuid.uuid4()}"  # longer than platform_task.task_id holds
    headers, properties, body, _ = producer.amqp.as_task_v2(task_id, COUNT_WORDS, args=[marker], kwargs={})
    with producer.connection_for_write() as connection:
        connection.Producer(serializer="json").publish(  # the platform's copy only: the result table refuses it too
            body, exchange="", routing_key=PLATFORM, headers=headers, declare=[producer.amqp.queues[PLATFORM]]
        )
    kept = "SELECT error FROM platform_undecodable_message WHERE body LIKE %s"
    rows = wait_until(lambda: platform.query(kept, f"%{marker}%"), 60, lambda: "the refused task was not kept")
    assert "the task table refuses it" in rows[0]["error"]
    after = producer.send_task(COUNT_WORDS, args=["still consuming"])
    platform.wait_for_task_and_result(after.id)


def test_a_refused_task_in_a_batch_is_kept_and_the_rest_of_the_batch_is_stored(platform, producer):
    # Sent while the stub is stopped, so that it receives them together and stores them in one transaction.
    marker = f"batch-{uuid.uuid4()}"
    good = [str(uuid.uuid4()) for _ in range(9)]
    platform.stop_sync_tasks()
    try:
        with producer.connection_for_write() as connection:
            publisher = connection.Producer(serializer="json")
            for task_id in [*good[:4], "t" * 200, *good[4:]]:  # the long id does not fit platform_task.task_id
                headers, properties, body, _ = producer.amqp.as_task_v2(task_id, COUNT_WORDS, args=[marker], kwargs={})
                publisher.publish(
                    body, exchange="", routing_key=PLATFORM, headers=headers, declare=[producer.amqp.queues[PLATFORM]]
                )
    finally:
        platform.start_sync_tasks()
    stored = "SELECT count(*) AS n FROM platform_task WHERE task_id = ANY(%s)"
    wait_until(lambda: platform.query(stored, good)[0]["n"] == len(good), 60, lambda: "the good tasks were not stored")
    kept = "SELECT error FROM platform_undecodable_message WHERE body LIKE %s"
    rows = wait_until(lambda: platform.query(kept, f"%{marker}%"), 60, lambda: "the refused task was not kept")
    assert len(rows) == 1 and "the task table refuses it" in rows[0]["error"]
    wait_until(lambda: platform.sqs.is_drained(PLATFORM), 60, lambda: "the batch was not acknowledged")


def test_a_killed_sync_tasks_gives_its_messages_back_whoever_made_the_queue(platform, producer, tmp_path):
    if not isinstance(platform, HostPlatform):
        pytest.skip("needs a sync-tasks process the tests start themselves")
    prefix = f"e2e{uuid.uuid4().hex[:12]}"
    # A producer made the platform queue first, with an hour's visibility timeout.
    platform.sqs.client.create_queue(
        QueueName=f"{prefix}-{PLATFORM}", Attributes={"FifoQueue": "true", "VisibilityTimeout": "3600"}
    )
    app = producer_app({**platform.producer_env, "QUEUE_PREFIX": prefix}, pytest.MonkeyPatch())
    sent = [app.send_task(COUNT_WORDS, args=[f"ingest {n}"]).id for n in range(5)]
    with hanging_database() as address:
        stuck = platform.service(
            "sync-tasks",
            QUEUE_PREFIX=prefix,
            SQS_VISIBILITY_TIMEOUT="3",
            PLATFORM_DATABASE_URL=f"postgresql://cadasta_platform:x@{address}/cadasta",
        )
        stuck.log_path = tmp_path / "stuck.log"
        stuck.start().wait_for_log("Consuming")
        wait_until(lambda: not platform_queue_visible(platform, prefix), 30, lambda: "the stub never received")
        os.killpg(stuck.process.pid, signal.SIGKILL)  # mid-ingest: it holds the messages, unacknowledged
        stuck.process.wait()
    killed_at = time.monotonic()
    healthy = platform.service("sync-tasks", QUEUE_PREFIX=prefix, SQS_VISIBILITY_TIMEOUT="3")
    healthy.log_path = tmp_path / "healthy.log"
    try:
        healthy.start()
        stored = "SELECT count(*) AS n FROM platform_task WHERE task_id = ANY(%s)"
        wait_until(lambda: platform.query(stored, sent)[0]["n"] == len(sent), 60, lambda: "not every task was stored")
    finally:
        healthy.stop()
    recovered = time.monotonic() - killed_at
    assert recovered < 20, f"took {recovered:.1f} s"
    print(f"\nsync-tasks killed mid-ingest: sent {len(sent)}, stored {len(sent)}, recovered in {recovered:.1f} s")


def platform_queue_visible(platform, prefix):
    url = platform.sqs.client.get_queue_url(QueueName=f"{prefix}-{PLATFORM}")["QueueUrl"]
    attributes = platform.sqs.client.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


@contextlib.contextmanager
def hanging_database():
    """An address that takes TCP connections and never answers, so a client waits out its timeout."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(100)
        yield "{}:{}".format(*server.getsockname())


def test_sync_tasks_does_not_acknowledge_while_the_database_is_unreachable(platform, producer, tmp_path):
    if not isinstance(platform, HostPlatform):
        pytest.skip("needs a sync-tasks process the tests start themselves")
    platform.stop_sync_tasks()
    cut_off = platform.service(
        "sync-tasks", PLATFORM_DATABASE_URL="postgresql://cadasta_platform:x@127.0.0.1:1/cadasta"
    )
    cut_off.log_path = tmp_path / "cut-off.log"
    try:
        cut_off.start().wait_for_log("Consuming")
        sent = producer.send_task(COUNT_WORDS, args=["kept back"])
        cut_off.wait_for_log(f"message {sent.id} not acknowledged")
    finally:
        cut_off.stop()
        platform.start_sync_tasks()
    row = platform.wait_for_task_and_result(sent.id)
    assert row["input"] == {"args": ["kept back"], "kwargs": {}}


def test_a_worker_whose_result_database_refuses_it_exits_at_start_up(platform, tmp_path):
    if not isinstance(platform, HostPlatform):
        pytest.skip("needs a worker the tests start themselves")
    password = f"wrong-{uuid.uuid4().hex}"
    worker = platform.service("worker", RESULT_DB_PASS=password)
    worker.log_path = tmp_path / "wrong-password.log"
    started = time.monotonic()
    worker.start()
    code = worker.process.wait(timeout=60)
    took = time.monotonic() - started
    log = worker.log()
    assert code != 0 and " ready." not in log, log[-3000:]
    assert "password authentication failed" in log and "Check RESULT_DB_HOST" in log, log[-3000:]
    assert f"at {platform.db_host}:{platform.db_port} as 'cadasta_worker'" in log
    assert password not in log
    print(f"\nwrong RESULT_DB_PASS: exit code {code} after {took:.1f} s, never ready")


#: What each service role may not do, by role: every one is attempted and must be refused.
REFUSED = {
    "worker": [
        # The platform's task table.
        "SELECT * FROM platform_task",
        "INSERT INTO platform_task (task_id, type, input, options) VALUES ('x', 'x', '{}', '{}')",
        "UPDATE platform_task SET type = 'x'",
        "DELETE FROM platform_task",
        "CREATE TABLE worker_owned (id int)",
        # The result tables beyond their rows, and the platform's view.
        "CREATE TEMP TABLE scratch (id int)",
        "DROP TABLE celery_taskmeta",
        "TRUNCATE celery_taskmeta",
        "ALTER TABLE celery_taskmeta ADD COLUMN extra int",
        "SELECT * FROM tracked_task",
    ],
    "platform": [
        "DROP TABLE celery_taskmeta",
        "TRUNCATE celery_taskmeta",
        "UPDATE celery_taskmeta SET status = 'x'",
        "DROP TABLE platform_task",
        "DROP VIEW tracked_task",
        "CREATE TABLE platform_owned (id int)",
        "CREATE TEMP TABLE scratch (id int)",
    ],
}


def role_dsn(platform, role):
    return {"worker": platform.worker_dsn, "platform": platform.platform_dsn}[role]


@pytest.mark.parametrize(
    ("role", "statement"), [(role, statement) for role, statements in REFUSED.items() for statement in statements]
)
def test_each_service_role_is_refused_what_it_may_not_do(platform, role, statement):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        platform.query(statement, dsn=role_dsn(platform, role))


@pytest.mark.parametrize("role", ["worker", "platform"])
def test_the_service_roles_cannot_connect_to_other_databases(platform, role):
    elsewhere = role_dsn(platform, role).rsplit("/", 1)[0] + "/postgres"
    with pytest.raises(psycopg2.OperationalError, match='permission denied for database "postgres"'):
        psycopg2.connect(elsewhere).close()


def test_the_worker_role_reads_and_writes_results(platform):
    task_id = str(uuid.uuid4())
    platform.query(
        "INSERT INTO celery_taskmeta (task_id, status) VALUES (%s, 'PENDING')", task_id, dsn=platform.worker_dsn
    )
    assert platform.query("SELECT count(*) AS n FROM celery_taskmeta", dsn=platform.worker_dsn)[0]["n"] >= 1


def test_the_worker_says_at_start_up_where_its_messages_and_results_go(platform):
    if not isinstance(platform, HostPlatform):
        pytest.skip("reads the log of a worker the tests start themselves")
    log = platform.host.processes["worker"].log()
    region = platform.producer_env["AWS_REGION"]
    broker = f"Broker: http://{platform.localstack_host} (region {region})."
    results = f"Results: database 'cadasta' at {platform.db_host}:{platform.db_port} as 'cadasta_worker'."
    assert f"{broker} {results}" in log, log[-3000:]
    assert f":{platform.values['RESULT_DB_PASS']}@" not in log  # Celery's banner masks it too
