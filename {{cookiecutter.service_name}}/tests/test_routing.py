import pytest
from celery.exceptions import QueueNotFound
from kombu.transport import memory

from {{ cookiecutter.package_name }} import app
from {{ cookiecutter.package_name }}.toolbox.conformance import (
    PerConnectionChannel,
    PerConnectionMemoryTransport,
    _deliveries,
    _memory_connection,
)
from {{ cookiecutter.package_name }}.toolbox.routing import MESSAGE_GROUP_ID, group_messages_by_workflow

PRIMARY_QUEUE = app.conf.WORKER_QUEUES[0]


def test_unknown_queue_prefix_is_refused_at_the_call():
    with pytest.raises(QueueNotFound, match="Task 'nowhere.task' routes to queue 'nowhere', which is not in QUEUES"):
        app.send_task("nowhere.task", connection=_memory_connection(app))


def test_every_route_names_its_queue_exchange_and_routing_key():
    route = app.amqp.router.route({}, f"{PRIMARY_QUEUE}.anything")
    assert (route["queue"].name, route["exchange"].name, route["routing_key"]) == (
        PRIMARY_QUEUE,
        "task_exchange",
        PRIMARY_QUEUE,
    )


def test_without_the_toolboxs_topology_a_fresh_connection_loses_the_platform_copy(monkeypatch):
    # The failure the toolbox's transport exists to prevent, shown on the offline
    # broker: Celery declares only the task's own queue on the connection, so the
    # platform never hears of the task. If this starts passing, the conformance
    # suite would no longer catch it.
    monkeypatch.setattr(PerConnectionMemoryTransport, "Channel", PlainPerConnectionChannel)
    assert _deliveries(app, f"{PRIMARY_QUEUE}.anything") == {PRIMARY_QUEUE: 1}


class PlainPerConnectionChannel(memory.Channel):
    queues = PerConnectionChannel.queues


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


@pytest.mark.parametrize("root_id", ["has a space", "é", "x" * 129])
def test_root_ids_sqs_refuses_as_group_ids_get_a_digest_of_their_own(root_id):
    groups = []
    for _ in range(2):
        properties = {}
        group_messages_by_workflow(headers={"id": "child", "root_id": root_id}, properties=properties)
        groups.append(properties["MessageGroupId"])
    assert groups[0] == groups[1] != root_id  # one group per workflow, as for valid ids
    assert MESSAGE_GROUP_ID.match(groups[0]) and len(groups[0]) == 64
