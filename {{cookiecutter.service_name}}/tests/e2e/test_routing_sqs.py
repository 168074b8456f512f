"""Routing holds on every connection and in every process, on real SQS.

kombu keeps SQS's emulated exchange per connection. Each test publishes over a
connection that setup_app never touched and checks, in SQS itself, that the
message reached its own queue and the platform queue.
"""

import threading

from {{ cookiecutter.package_name }}.toolbox import setup_app
from {{ cookiecutter.package_name }}.toolbox.routing import TaskRouter
from tests.e2e.conftest import PROBE_QUEUE
from tests.e2e.probe_tasks import PRIMARY_QUEUE

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


def test_control_without_declaring_on_each_connection_the_message_is_lost(app, sqs, monkeypatch):
    # Shows the failure the router prevents still happens on this kombu: if
    # this ever fails, SQS routing no longer needs the per-connection declare.
    original = TaskRouter.__call__

    def naive(self, *args, **kwargs):
        return {k: v for k, v in original(self, *args, **kwargs).items() if k != "declare"}

    monkeypatch.setattr(TaskRouter, "__call__", naive)
    setup_app(app)
    with app.connection_for_write() as connection:
        app.send_task(PROBE_TASK, args=["lost"], connection=connection)
    # Compare with a message sent the toolbox's way right after it.
    monkeypatch.setattr(TaskRouter, "__call__", original)
    with app.connection_for_write() as connection:
        marker = app.send_task(PROBE_TASK, args=["kept"], connection=connection)
    sqs.wait_for(PLATFORM, marker.id)
    assert list(sqs.messages(PROBE_QUEUE)) == [marker.id]
    assert list(sqs.messages(PLATFORM)) == [marker.id]
