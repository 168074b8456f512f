"""A received message's life (toolbox/sqs/lifecycle.py), offline against an in-memory SQS.

tests/e2e/ runs the same rules on LocalStack; these say, in well under a
second each, which rule broke.
"""

import logging
import time

import pytest
from kombu.message import Message

from {{ cookiecutter.package_name }} import app
from {{ cookiecutter.package_name }}.toolbox.sqs import lifecycle
from {{ cookiecutter.package_name }}.toolbox.sqs.lifecycle import MessageLifecycle, redelivery_delay, renew_interval

from local_stack.sync_tasks import SyncTasks
from tests.memory_sqs import Clock, MemorySQS

QUEUE = "https://sqs.memory/dev-example"


def sqs_with(count, clock=time.monotonic, attributes=None):
    sqs = MemorySQS(clock)
    sqs.create_queue(QueueName="dev-example", Attributes=attributes)
    for number in range(count):
        sqs.send_message(QueueUrl=QUEUE, MessageBody=f"message {number}")
    return sqs


def life(sqs, held=(), visibility_timeout=30):
    return MessageLifecycle(lambda: sqs, visibility_timeout, lambda: [(QUEUE, message) for message in held])


def test_acknowledged_messages_are_deleted_ten_to_a_request():
    sqs = sqs_with(12)
    received = sqs.receive_message(QueueUrl=QUEUE, MaxNumberOfMessages=12)["Messages"]
    messages = life(sqs)
    for message in received:
        messages.ack(QUEUE, message)
    messages.close()
    assert [len(call["Entries"]) for call in sqs.operations("DeleteMessageBatch")] == [10, 2]
    assert sqs.queues[QUEUE] == {}


def test_closing_deletes_what_waits_for_its_batch(monkeypatch):
    monkeypatch.setattr(lifecycle, "DELETE_LINGER", 30)  # no batch would fill or time out during the test
    sqs = sqs_with(1)
    (message,) = sqs.receive_message(QueueUrl=QUEUE)["Messages"]
    messages = life(sqs)
    messages.ack(QUEUE, message)
    started = time.monotonic()
    messages.close()
    assert sqs.queues[QUEUE] == {} and time.monotonic() - started < 1


def test_a_message_given_back_comes_back_later_after_each_receive():
    clock = Clock()
    sqs = sqs_with(1, clock)
    messages = life(sqs)
    waits = []
    for _ in range(3):
        (message,) = sqs.receive_message(QueueUrl=QUEUE)["Messages"]
        messages.give_back(QUEUE, message)
        waits.append(sqs.operations("ChangeMessageVisibility")[-1]["VisibilityTimeout"])
        clock.advance(waits[-1] - 0.5)
        assert sqs.receive_message(QueueUrl=QUEUE)["Messages"] == [], "given back before its delay"
        clock.advance(0.5)
    assert waits == [redelivery_delay(1), redelivery_delay(2), redelivery_delay(3)] and waits[0] < waits[1] < waits[2]


def test_a_failed_give_back_is_logged_and_the_message_still_comes_back(caplog):
    clock = Clock()
    sqs = sqs_with(1, clock)
    (message,) = sqs.receive_message(QueueUrl=QUEUE, VisibilityTimeout=30)["Messages"]
    sqs.failing["ChangeMessageVisibility"] = ConnectionError("SQS is away")
    with caplog.at_level(logging.WARNING):
        life(sqs).give_back(QUEUE, message)  # must not raise: kombu would keep the delivery's slot
    assert f"Could not give message {message['MessageId']} back" in caplog.text
    clock.advance(30)
    assert [m["MessageId"] for m in sqs.receive_message(QueueUrl=QUEUE)["Messages"]] == [message["MessageId"]]


def test_a_failed_delete_is_logged_and_the_message_comes_back(caplog):
    clock = Clock()
    sqs = sqs_with(1, clock)
    (message,) = sqs.receive_message(QueueUrl=QUEUE, VisibilityTimeout=30)["Messages"]
    sqs.failing["DeleteMessageBatch"] = ConnectionError("SQS is away")
    messages = life(sqs)
    with caplog.at_level(logging.ERROR):
        messages.ack(QUEUE, message)
        messages.close()
    assert f"Could not delete messages {message['MessageId']}" in caplog.text
    clock.advance(30)
    assert [m["MessageId"] for m in sqs.receive_message(QueueUrl=QUEUE)["Messages"]] == [message["MessageId"]]


def test_held_messages_are_renewed_before_they_expire_and_let_go_of_after(monkeypatch):
    monkeypatch.setattr(lifecycle, "MIN_RENEW_INTERVAL", 0.05)
    visibility = 0.3  # renewed every 0.1 s
    sqs = sqs_with(1)
    (message,) = sqs.receive_message(QueueUrl=QUEUE, VisibilityTimeout=visibility)["Messages"]
    held = [message]
    messages = life(sqs, held, visibility_timeout=visibility)
    messages.start()
    try:
        time.sleep(3 * visibility)
        assert sqs.receive_message(QueueUrl=QUEUE)["Messages"] == [], "a held message showed again"
        assert len(sqs.operations("ChangeMessageVisibilityBatch")) >= 3
        held.clear()  # acknowledged or rejected: no longer renewed
        time.sleep(2 * visibility)
        assert len(sqs.receive_message(QueueUrl=QUEUE)["Messages"]) == 1
    finally:
        messages.close()


def test_a_message_let_go_of_is_not_hidden_again_while_it_is_still_listed_as_held():
    # kombu forgets a delivery a moment after it is given back or rejected; a renewal meanwhile would hide
    # it for a whole visibility timeout again.
    clock = Clock()
    sqs = sqs_with(2, clock)
    given_back, rejected = sqs.receive_message(QueueUrl=QUEUE, MaxNumberOfMessages=2)["Messages"]
    messages = life(sqs, [given_back, rejected])
    messages.give_back(QUEUE, given_back)
    messages.reject(QUEUE, rejected)
    messages.renew()
    assert sqs.operations("ChangeMessageVisibilityBatch") == []
    clock.advance(redelivery_delay(1))
    assert [m["MessageId"] for m in sqs.receive_message(QueueUrl=QUEUE)["Messages"]] == [given_back["MessageId"]]


def test_renewal_comes_well_within_the_visibility_timeout():
    timeout = app.conf.SQS_VISIBILITY_TIMEOUT
    assert renew_interval(timeout) <= timeout / 3
    assert renew_interval(timeout) >= lifecycle.MIN_RENEW_INTERVAL


def test_held_messages_are_renewed_ten_to_a_request_and_a_lost_one_is_said_once(caplog):
    sqs = sqs_with(11)
    held = sqs.receive_message(QueueUrl=QUEUE, MaxNumberOfMessages=11)["Messages"]
    lost = dict(held[0], ReceiptHandle="expired", MessageId="lost")  # a handle SQS no longer takes
    messages = life(sqs, [*held, lost])
    messages.renew()
    assert [len(call["Entries"]) for call in sqs.operations("ChangeMessageVisibilityBatch")] == [10, 2]
    assert "lost" not in caplog.text  # ReceiptHandleIsInvalid: acknowledged meanwhile, nothing to say


# -- The channel and the sync-tasks stub go through the lifecycle ------------------------------------------
@pytest.fixture(params=[True, False], ids=["dead-lettering", "without a dead-letter queue"])
def channel(request):
    """The toolbox's channel, offline: every queue predefined, every client the in-memory SQS."""
    sqs = sqs_with(3, attributes={"RedrivePolicy": "{}"} if request.param else None)
    predefined = {"dev-example": {"url": QUEUE}}
    with app.connection(transport_options={"predefined_queues": predefined}) as connection:
        opened = connection.channel()
        opened.lifecycle.client_factory = lambda: sqs
        opened.sqs = lambda queue=None: sqs
        opened.sqs_memory = sqs
        opened.dead_letters = request.param
        try:
            yield opened
        finally:
            opened.close()


def delivered(channel, tag):
    """One message received from the in-memory SQS and delivered on ``channel`` as kombu would."""
    (sqs_message,) = channel.sqs_memory.receive_message(QueueUrl=QUEUE)["Messages"]
    info = {"sqs_message": sqs_message, "sqs_queue": QUEUE, "routing_key": "example", "exchange": "task_exchange"}
    message = Message(body="{}", channel=channel, delivery_tag=tag, delivery_info=info, content_type="application/json")
    channel.qos.append(message, tag)
    return message


def test_the_channel_acknowledges_and_gives_back_through_its_lifecycle(channel):
    acknowledged, requeued, rejected = (delivered(channel, tag) for tag in (1, 2, 3))
    everything = [message.delivery_info["sqs_message"] for message in (acknowledged, requeued, rejected)]
    assert [held for _, held in channel.held_messages()] == everything
    acknowledged.ack()
    requeued.requeue()
    rejected.reject()
    assert list(channel.held_messages()) == []
    channel.lifecycle.close()
    sqs = channel.sqs_memory
    assert [len(call["Entries"]) for call in sqs.operations("DeleteMessageBatch")] == [1]
    assert [call["VisibilityTimeout"] for call in sqs.operations("ChangeMessageVisibility")] == [redelivery_delay(1)]
    # A rejected message waits out its visibility timeout, for SQS to dead-letter it after its last receive.
    # kombu deletes it instead where the queue has no dead-letter queue, lest it come back for ever.
    assert len(sqs.queues[QUEUE]) == (2 if channel.dead_letters else 1)


def test_sync_tasks_gives_a_message_back_by_the_same_rule(channel):
    message = delivered(channel, 1)
    SyncTasks.give_back(message, "task-1", "database unavailable")
    assert [call["VisibilityTimeout"] for call in channel.sqs_memory.operations("ChangeMessageVisibility")] == [
        redelivery_delay(1)
    ]
    assert list(channel.held_messages()) == []
