import logging
import os
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError
from celery import Celery

from {{ cookiecutter.package_name }} import app
from {{ cookiecutter.package_name }}.toolbox import Config
from {{ cookiecutter.package_name }}.toolbox import setup as toolbox_setup
from {{ cookiecutter.package_name }}.toolbox.setup import (
    SetupError,
    describe_broker,
    describe_result_store,
    select_worker_queues,
    setup_app,
)

PLATFORM = app.conf.PLATFORM_QUEUE_NAME
#: The queues this worker was baked to consume.
OWN_QUEUES = {{ cookiecutter.queues | queue_list | tojson }}


def fresh_queues():
    return app.amqp.Queues(app.conf.task_queues)


def test_without_Q_the_worker_consumes_WORKER_QUEUES():
    queues = fresh_queues()
    select_worker_queues(queues, app.conf.WORKER_QUEUES, PLATFORM)
    assert sorted(queues.consume_from) == sorted(app.conf.WORKER_QUEUES)


def test_by_default_the_worker_consumes_its_own_queues_and_celery_only():
    # Another service's queue consumed here would run (or fail) tasks that are not this worker's.
    queues = fresh_queues()
    select_worker_queues(queues, app.conf.WORKER_QUEUES, PLATFORM)
    assert sorted(queues.consume_from) == sorted([*OWN_QUEUES, "celery"])


def test_an_explicit_Q_wins_but_never_for_the_platform_queue(caplog):
    queues = fresh_queues()
    queues.select(["celery", PLATFORM])  # what `celery worker -Q celery,platform.fifo` does
    with caplog.at_level(logging.ERROR):
        select_worker_queues(queues, app.conf.WORKER_QUEUES, PLATFORM)
    assert list(queues.consume_from) == ["celery"]
    assert "never consumes 'platform.fifo'" in caplog.text


def test_an_X_exclusion_still_holds():
    queues = fresh_queues()
    queues.deselect("celery")  # what `celery worker -X celery` does
    select_worker_queues(queues, app.conf.WORKER_QUEUES, PLATFORM)
    assert sorted(queues.consume_from) == sorted(q for q in app.conf.WORKER_QUEUES if q != "celery")


def test_empty_WORKER_QUEUES_consumes_nothing_and_says_so(caplog):
    queues = fresh_queues()
    with caplog.at_level(logging.ERROR):
        select_worker_queues(queues, [], PLATFORM)
    assert dict(queues.consume_from) == {}
    assert "WORKER_QUEUES names no queue to consume" in caplog.text


def test_setup_app_records_success_and_caps_chord_unlock(monkeypatch):
    declared = []
    monkeypatch.setattr(toolbox_setup, "declare_routing", declared.append)
    app.tasks["celery.chord_unlock"].max_retries = None
    assert setup_app(app) is True
    assert declared == [app] and app.is_set_up is True
    assert app.tasks["celery.chord_unlock"].max_retries == app.conf.CHORD_UNLOCK_MAX_RETRIES


def test_setup_app_failure_names_the_broker_and_raises_or_is_logged(monkeypatch, caplog):
    def unreachable(app):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(toolbox_setup, "declare_routing", unreachable)
    expected = r"Cannot set up the queues at .* after 0 s: broker unreachable\. Check CELERY_BROKER_URL"
    with pytest.raises(SetupError, match=expected):
        setup_app(app, timeout=0)
    assert app.is_set_up is False
    with caplog.at_level(logging.ERROR):
        assert setup_app(app, throw=False, timeout=0) is False
    assert app.is_set_up is False
    assert "broker unreachable" in caplog.text


def test_setup_app_tries_again_until_sqs_answers(monkeypatch):
    attempts = []

    def answers_the_third_time(app):
        attempts.append(app)
        if len(attempts) < 3:
            raise ConnectionError("not yet")

    monkeypatch.setattr(toolbox_setup, "declare_routing", answers_the_third_time)
    monkeypatch.setattr(toolbox_setup, "RETRY_INTERVAL", 0.01)
    assert setup_app(app, timeout=5) is True
    assert len(attempts) == 3


def test_refused_credentials_are_not_tried_again(monkeypatch):
    attempts = []

    def refused(app):
        attempts.append(app)
        raise ClientError({"Error": {"Code": "InvalidClientTokenId", "Message": "The token is invalid."}}, "ListQueues")

    monkeypatch.setattr(toolbox_setup, "declare_routing", refused)
    with pytest.raises(SetupError, match="InvalidClientTokenId"):
        setup_app(app, timeout=30)
    assert len(attempts) == 1


@pytest.mark.parametrize(
    ("broker_url", "described"),
    [
        ("sqs://test:secret@localhost:4566", "http://localhost:4566 (region us-west-2)"),
        (None, "AWS SQS in region us-west-2"),
    ],
)
def test_the_broker_is_described_by_endpoint_and_region_without_credentials(broker_url, described):
    described_app = Celery("described", set_as_current=False)
    described_app.config_from_object(Config(broker_url=broker_url, AWS_REGION="us-west-2"))
    assert describe_broker(described_app) == described


def test_no_credentials_for_real_aws_end_at_once_with_the_local_stack_hint(monkeypatch, caplog):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role to look for here
    unconfigured = Celery("unconfigured", set_as_current=False)
    unconfigured.config_from_object(Config(broker_url=None, AWS_REGION="us-west-2"))
    with caplog.at_level(logging.WARNING), pytest.raises(SetupError) as raised:
        setup_app(unconfigured, timeout=30)
    message = str(raised.value)
    assert "AWS SQS in region us-west-2" in message and "Unable to locate credentials" in message
    assert "CELERY_BROKER_URL=sqs://test:test@localhost:4566" in message
    assert "trying again" not in caplog.text


def test_the_result_store_is_described_without_its_password():
    described_app = Celery("described", set_as_current=False)
    described_app.config_from_object(
        Config(RESULT_DB_HOST="db.internal", RESULT_DB_PORT=6543, RESULT_DB_PASS="s3cret-value")
    )
    described = describe_result_store(described_app)
    assert described == "database 'cadasta' at db.internal:6543 as 'cadasta'" and "s3cret" not in described


def test_a_failure_in_one_set_up_step_is_named_and_does_not_skip_the_others(monkeypatch):
    def broken(app):
        raise TypeError("unexpected")

    declared = []
    monkeypatch.setattr(toolbox_setup, "cap_chord_unlock", broken)
    monkeypatch.setattr(toolbox_setup, "declare_routing", declared.append)
    with pytest.raises(SetupError, match=r"Set-up step 'cap celery.chord_unlock' failed: TypeError: unexpected"):
        setup_app(app)
    assert declared == [app] and app.is_set_up is False


#: A worker whose set-up step fails with an error nobody expected (as a mocked SQS client once made a
#: redrive policy raise TypeError): the queues are declared without SQS, the chord_unlock step breaks.
BROKEN_WORKER = """
import sys
from {{ cookiecutter.package_name }}.toolbox import setup

def broken(app):
    raise TypeError("chord_unlock is not what it was")

setup.cap_chord_unlock = broken
setup.declare_routing = lambda app: None
from {{ cookiecutter.package_name }} import app
app.worker_main(["worker", "--pool", "solo", "--loglevel", "INFO", "--without-heartbeat"])
"""


def test_a_worker_whose_set_up_raises_anything_exits_with_one_line_naming_the_step(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", BROKEN_WORKER],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HEARTBEAT_FILE": str(tmp_path / "heartbeat")},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    # worker_init comes before Celery sets logging up: the line is all the output says of it.
    named = [line for line in output.splitlines() if "Set-up step" in line]
    assert named == ["Set-up step 'cap celery.chord_unlock' failed: TypeError: chord_unlock is not what it was"]
    assert "Traceback" not in output and " ready." not in output
