"""Offline rules of the give-back delay (toolbox/sqs/lifecycle.py); tests/e2e/ runs it on SQS."""

from {{ cookiecutter.package_name }} import app
from {{ cookiecutter.package_name }}.toolbox.sqs.lifecycle import MAX_REDELIVERY_DELAY, redelivery_delay


def test_a_message_given_back_again_and_again_waits_longer_each_time():
    delays = [redelivery_delay(receives) for receives in range(1, 8)]
    assert delays == [1, 4, 16, 64, 256, MAX_REDELIVERY_DELAY, MAX_REDELIVERY_DELAY]
    assert redelivery_delay("3") == 16  # SQS gives the count as text


def test_the_receives_before_dead_lettering_span_minutes():
    # A result database down for a few minutes must not send the tasks given back to the dead-letter queue.
    receives = app.conf.SQS_MAX_RECEIVE_COUNT
    waited = sum(redelivery_delay(receive) for receive in range(1, receives))
    assert waited >= 60, f"{receives} receives span only {waited} s of redelivery delays"
