import pytest
from celery.exceptions import QueueNotFound

from {{ cookiecutter.package_name }} import app
from {{ cookiecutter.package_name }}.toolbox.conformance import PerConnectionMemoryTransport, _deliveries
from {{ cookiecutter.package_name }}.toolbox.routing import TaskRouter, group_messages_by_workflow

PRIMARY_QUEUE = app.conf.WORKER_QUEUES[0]


def test_unknown_queue_prefix_is_refused_at_the_call():
    with pytest.raises(QueueNotFound, match="Task 'nowhere.task' routes to queue 'nowhere', which is not in QUEUES"):
        app.send_task("nowhere.task", connection=_memory_connection())


def test_every_route_declares_every_queue():
    route = app.amqp.router.route({}, f"{PRIMARY_QUEUE}.anything")
    assert [q.name for q in route["declare"]] == [q.name for q in app.conf.task_queues]


def test_a_route_without_declare_loses_the_message_on_a_fresh_connection(monkeypatch):
    # The failure the toolbox exists to prevent, shown on the offline broker:
    # if this starts passing, the conformance suite would no longer catch it.
    def naive(self, *args, **kwargs):
        route = dict(original(self, *args, **kwargs))
        del route["declare"]
        return route

    original = TaskRouter.__call__
    monkeypatch.setattr(TaskRouter, "__call__", naive)
    assert _deliveries(app, f"{PRIMARY_QUEUE}.anything") == {}


def test_messages_are_grouped_by_workflow_root():
    properties = {}
    group_messages_by_workflow(headers={"id": "child", "root_id": "root"}, properties=properties)
    assert properties == {"MessageGroupId": "root"}
    properties = {}
    group_messages_by_workflow(headers={"id": "alone", "root_id": None}, properties=properties)
    assert properties == {"MessageGroupId": "alone"}
    properties = {"MessageGroupId": "chosen"}
    group_messages_by_workflow(headers={"id": "x", "root_id": "root"}, properties=properties)
    assert properties == {"MessageGroupId": "chosen"}


def _memory_connection():
    from kombu import Connection

    return Connection(transport=PerConnectionMemoryTransport)
