"""Offline rules of the toolbox's SQS transport (toolbox/transport.py); tests/e2e/ runs it on SQS."""

import threading

import pytest

from {{ cookiecutter.package_name }} import app
from {{ cookiecutter.package_name }}.toolbox.transport import (
    MAX_REDELIVERY_DELAY,
    TOPOLOGY_OPTION,
    DeliveringTopicExchange,
    PartialPublishError,
    redelivery_delay,
)


def test_a_message_given_back_again_and_again_waits_longer_each_time():
    delays = [redelivery_delay(receives) for receives in range(1, 8)]
    assert delays == [1, 4, 16, 64, 256, MAX_REDELIVERY_DELAY, MAX_REDELIVERY_DELAY]
    assert redelivery_delay("3") == 16  # SQS gives the count as text


def test_the_receives_before_dead_lettering_span_minutes():
    # A result database down for a few minutes must not send the tasks given back to the dead-letter queue.
    receives = app.conf.SQS_MAX_RECEIVE_COUNT
    waited = sum(redelivery_delay(receive) for receive in range(1, receives))
    assert waited >= 60, f"{receives} receives span only {waited} s of redelivery delays"


class Channel:
    """What DeliveringTopicExchange needs of a channel: a work queue and the platform's, bound with '#'."""

    transport_options = {TOPOLOGY_OPTION: {"exchange": "tasks"}}
    deadletter_queue = None

    def __init__(self, failures=None, barrier=None):
        self.failures = dict(failures or {})
        self.barrier = barrier
        self.sent = []
        self.threads = {}

    def get_table(self, exchange):
        pattern = DeliveringTopicExchange(self).key_to_pattern
        return [(key, pattern(key), queue) for key, queue in (("work", "work"), ("#", "platform"))]

    def encoded_size(self, message):
        return 10

    def size_limit(self, queue):
        return 1000

    def _put(self, queue, message, **kwargs):
        self.threads[queue] = threading.current_thread()
        if self.barrier is not None:
            self.barrier.wait()  # breaks unless the other copy is being sent at the same time
        if self.failures.get(queue):
            self.failures[queue] -= 1
            raise ConnectionError(f"{queue} refused")
        self.sent.append(queue)


def publish(channel):
    DeliveringTopicExchange(channel).deliver({"headers": {"id": "t1"}}, "tasks", "work")


def test_both_copies_are_sent_at_once():
    channel = Channel(barrier=threading.Barrier(2, timeout=10))
    publish(channel)
    assert sorted(channel.sent) == ["platform", "work"]
    assert channel.threads["platform"] is not channel.threads["work"]


def test_a_platform_copy_that_fails_alone_is_sent_again():
    channel = Channel(failures={"platform": 1})
    publish(channel)
    assert sorted(channel.sent) == ["platform", "work"]


def test_a_platform_copy_that_fails_twice_is_a_loud_error_saying_the_task_runs_untracked():
    channel = Channel(failures={"platform": 2})
    with pytest.raises(PartialPublishError, match="sent to work, but not to platform .* does not track it") as raised:
        publish(channel)
    assert raised.value.sent == ["work"] and raised.value.failed == "platform"


def test_a_work_copy_that_fails_is_not_sent_again_and_the_error_says_so():
    channel = Channel(failures={"work": 1})
    with pytest.raises(PartialPublishError, match="sent to platform, but not to work .* no worker will run it"):
        publish(channel)
    assert channel.sent == ["platform"]


def test_when_no_copy_is_sent_the_error_is_the_brokers_own():
    channel = Channel(failures={"work": 1, "platform": 1})
    with pytest.raises(ConnectionError):
        publish(channel)
    assert channel.sent == []
