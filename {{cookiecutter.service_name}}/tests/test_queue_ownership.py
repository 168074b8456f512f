"""A service creates and configures only the queues it consumes (toolbox/sqs/queues.py), offline.

tests/e2e/ shows the same on LocalStack, with queues another service made.
"""

import pytest
from celery import Celery

from {{ cookiecutter.package_name }}.toolbox import Config, SetupError, setup_app

NOWHERE_URL = "sqs://test:test@127.0.0.1:9"
OWN, OTHER, PLATFORM = "mine", "theirs", "platform.fifo"


@pytest.fixture
def sqs(channel_sqs):
    """Every client of the toolbox's channel, the in-memory SQS (tests/conftest.py)."""
    return channel_sqs


def service_app(**settings):
    app = Celery("ownership", set_as_current=False)
    app.config_from_object(
        Config(broker_url=NOWHERE_URL, QUEUES=[OWN, OTHER], WORKER_QUEUES=[OWN, "celery"], **settings)
    )
    return app


def created(sqs):
    return {call["QueueName"]: call["Attributes"] for call in sqs.operations("CreateQueue")}


def test_provisioned_opening_a_channel_asks_sqs_nothing(sqs):
    with service_app(QUEUES_PROVISIONED=True).connection_for_write() as connection:
        connection.channel().close()
    assert sqs.calls == []  # kombu lists every queue under the prefix, as it still does locally


def test_a_service_gives_its_own_queues_dead_letter_queues_and_creates_others_plain(sqs):
    assert setup_app(service_app(), timeout=1)
    made = created(sqs)
    assert sorted(made) == sorted(
        ["dev-mine", "dev-mine-dlq", "dev-celery", "dev-celery-dlq", "dev-theirs", "dev-platform.fifo"]
    )
    assert "RedrivePolicy" in made["dev-mine"] and "RedrivePolicy" in made["dev-celery"]
    assert "RedrivePolicy" not in made["dev-theirs"] and "RedrivePolicy" not in made["dev-platform.fifo"]
    assert sqs.operations("SetQueueAttributes") == []


def test_another_services_queues_are_left_exactly_as_they_were(sqs):
    for name, attributes in (("dev-theirs", {"VisibilityTimeout": "7"}), ("dev-platform.fifo", {"FifoQueue": "true"})):
        sqs.create_queue(QueueName=name, Attributes=attributes)
    before = {url: dict(attributes) for url, attributes in sqs.attributes.items()}
    sqs.calls.clear()
    assert setup_app(service_app(), timeout=1)
    theirs = {url for url in before}
    assert {url: sqs.attributes[url] for url in theirs} == before
    touched = {call.get("QueueUrl") for name, call in sqs.calls if name not in ("GetQueueUrl", "CreateQueue")}
    assert touched.isdisjoint(theirs), "another service's queue was read or changed"
    assert not {"dev-theirs", "dev-platform.fifo"} & set(created(sqs)) and sqs.operations("SetQueueAttributes") == []


def test_provisioned_creates_nothing_and_names_every_missing_queue(sqs):
    for name in ("dev-mine", "dev-mine-dlq", "dev-celery", "dev-celery-dlq"):
        sqs.create_queue(QueueName=name)
    sqs.calls.clear()
    with pytest.raises(SetupError, match=r"Not in SQS: dev-platform\.fifo, dev-theirs\. With QUEUES_PROVISIONED"):
        setup_app(service_app(QUEUES_PROVISIONED=True), timeout=1)
    assert {name for name, _ in sqs.calls} == {"GetQueueUrl"}


def test_provisioned_a_producer_only_finds_and_sends_to_another_services_queue(sqs):
    for name in ("dev-mine", "dev-celery", "dev-theirs", "dev-platform.fifo"):
        sqs.create_queue(QueueName=name)
    app = service_app(QUEUES_PROVISIONED=True)
    assert setup_app(app, timeout=1)
    sqs.calls.clear()
    app.send_task(f"{OTHER}.anything", args=["x"])
    assert {name for name, _ in sqs.calls} == {"GetQueueUrl", "SendMessage"}  # no size, no count, no listing
    assert len(sqs.operations("SendMessage")) == 2  # the platform's copy and the work copy
