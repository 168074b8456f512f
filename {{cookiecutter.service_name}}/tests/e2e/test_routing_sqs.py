"""Routing holds on every connection and in every process, on real SQS.

kombu keeps SQS's emulated exchange per connection. Each test publishes over a
connection that setup_app never touched, or inspects one, and checks, in SQS
itself, that the message reached its own queue and the platform queue.
"""

import json
import threading
import uuid

from {{ cookiecutter.package_name }}.toolbox import setup_app

from local_stack.host.processes import wait_until
from tests.e2e.conftest import PROBE_QUEUE
from tests.e2e.probe_tasks import PRIMARY_QUEUE, topology_seen

PLATFORM = "platform.fifo"
PROBE_TASK = f"{PROBE_QUEUE}.echo"


def test_a_connection_setup_app_never_touched(app, sqs):
    assert setup_app(app) is True and app.is_set_up
    with app.connection_for_write() as connection:
        result = app.send_task(PROBE_TASK, args=["fresh connection"], connection=connection)
    assert sqs.wait_for(PROBE_QUEUE, result.id)["headers"]["task"] == PROBE_TASK
    platform_copy = sqs.wait_for(PLATFORM, result.id)
    assert platform_copy["sqs_attributes"]["MessageGroupId"] == result.id


def test_another_thread(app, sqs):
    setup_app(app)
    sent = []
    thread = threading.Thread(target=lambda: sent.append(app.send_task(PROBE_TASK, args=["thread"])))
    thread.start()
    thread.join(timeout=60)
    (result,) = sent
    sqs.wait_for(PROBE_QUEUE, result.id)
    sqs.wait_for(PLATFORM, result.id)


def test_a_follow_up_sent_from_a_task_in_a_prefork_child(app, sqs, worker):
    relay = app.send_task(f"{PRIMARY_QUEUE}.e2e_relay", args=[PROBE_TASK, "follow-up"])
    follow_up = sqs.wait_for_task(PROBE_QUEUE, PROBE_TASK)
    assert follow_up["headers"]["parent_id"] == relay.id
    assert follow_up["headers"]["root_id"] == relay.id
    sqs.wait_for(PLATFORM, follow_up["headers"]["id"])
    # The worker left the platform's copy of its own task alone.
    sqs.wait_for(PLATFORM, relay.id)


def test_a_fresh_connection_in_a_producer_holds_the_topic_exchange(app):
    assert_holds_the_topology(app, topology_seen(app))


def test_a_fresh_connection_in_the_worker_and_in_its_pool_child_holds_it(app, start_worker, tmp_path):
    start_worker(E2E_REPORT_DIR=str(tmp_path))
    (main,) = wait_until(lambda: list(tmp_path.glob("main-*.json")), 60, lambda: "the worker never reported")
    app.send_task(f"{PRIMARY_QUEUE}.e2e_report_topology")
    (child,) = wait_until(lambda: list(tmp_path.glob("child-*.json")), 60, lambda: "no pool child reported")
    main, child = json.loads(main.read_text()), json.loads(child.read_text())
    assert main["pid"] != child["pid"]
    for report in (main, child):
        assert_holds_the_topology(app, report)


def assert_holds_the_topology(app, seen):
    assert seen["type"] == "topic"
    expected = {queue: [queue, PLATFORM] for queue in ["celery", *app.conf.QUEUES]}
    assert seen["lookup"] == expected


def test_a_kombu_producer_that_bypasses_celerys_router(app, sqs):
    # Publishes straight to the exchange on a fresh connection, declaring nothing.
    task_id = str(uuid.uuid4())
    headers, properties, body, _ = app.amqp.as_task_v2(task_id, PROBE_TASK, args=["kombu"], kwargs={})
    with app.connection_for_write() as connection:
        connection.Producer(serializer="json").publish(
            body, exchange=app.conf.task_default_exchange, routing_key=PROBE_QUEUE, headers=headers, **properties
        )
    sqs.wait_for(PROBE_QUEUE, task_id)
    sqs.wait_for(PLATFORM, task_id)


def test_control_kombus_own_sqs_transport_loses_the_platform_copy(app, sqs):
    # Shows the failure the toolbox's transport prevents still happens on this
    # kombu: Celery declares only the task's own queue on a fresh connection.
    # If this ever fails, kombu keeps the exchange table process-wide again.
    setup_app(app)
    with app.connection_for_write(transport="sqs") as connection:
        lost = app.send_task(PROBE_TASK, args=["lost"], connection=connection)
    with app.connection_for_write() as connection:
        marker = app.send_task(PROBE_TASK, args=["kept"], connection=connection)
    sqs.wait_for(PLATFORM, marker.id)
    sqs.wait_for(PROBE_QUEUE, lost.id)
    assert sorted(sqs.messages(PROBE_QUEUE)) == sorted([lost.id, marker.id])
    assert list(sqs.messages(PLATFORM)) == [marker.id]
