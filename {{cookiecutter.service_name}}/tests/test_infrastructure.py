"""The service's CloudFormation template (toolbox/infrastructure.py) says what the worker does and needs.

`make lint` runs cfn-lint on it; tests/e2e/test_least_privilege.py runs the
services under its policies' rules on LocalStack.
"""

import json

import pytest
from celery import Celery

from {{ cookiecutter.package_name }} import app
from {{ cookiecutter.package_name }}.toolbox import Config, setup_app
from {{ cookiecutter.package_name }}.toolbox.infrastructure import cloudformation, main, policy

from tests.iam import allows, grants

REGION = app.conf.AWS_REGION
PREFIX = app.conf.QUEUE_NAME_PREFIX


def queues_of(template):
    """{SQS name: properties} of every queue in the template, names resolved with the default prefix."""
    found = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::SQS::Queue":
            properties = dict(resource["Properties"])
            name = properties.pop("QueueName")["Fn::Sub"].replace("${QueuePrefix}", PREFIX)
            found[name] = properties
    return found


def test_the_template_holds_the_queues_the_toolbox_would_create_with_the_same_attributes(channel_sqs):
    sqs = channel_sqs
    local = Celery("local", set_as_current=False)
    queues = {name: app.conf[name] for name in ("QUEUES", "WORKER_QUEUES", "QUEUE_NAME_PREFIX")}
    local.config_from_object(Config(broker_url="sqs://test:test@127.0.0.1:9", **queues))
    assert setup_app(local, timeout=1)
    own = {app.conf.broker_transport_options["queue_name_prefix"] + name for name in app.conf.WORKER_QUEUES}
    own |= {f"{name}-dlq" for name in own}
    created = {call["QueueName"]: call["Attributes"] for call in sqs.operations("CreateQueue")}
    described = queues_of(cloudformation(app.conf))
    assert set(described) == own <= set(created)
    for name, properties in described.items():
        attributes = created[name]
        if "RedrivePolicy" in properties:
            redrive = json.loads(attributes["RedrivePolicy"])
            assert int(redrive["maxReceiveCount"]) == properties["RedrivePolicy"]["maxReceiveCount"]
            assert redrive["deadLetterTargetArn"].endswith(f"{name}-dlq")
            assert int(attributes["VisibilityTimeout"]) == properties["VisibilityTimeout"]
        else:
            assert int(attributes["MessageRetentionPeriod"]) == properties["MessageRetentionPeriod"]


def test_the_numbers_come_from_the_settings_the_worker_runs_with(monkeypatch):
    monkeypatch.setenv("SQS_MAX_RECEIVE_COUNT", "9")
    monkeypatch.setenv("SQS_VISIBILITY_TIMEOUT", "90")
    changed = Config(**{name: app.conf[name] for name in ("QUEUES", "WORKER_QUEUES")})
    queue = next(p for p in queues_of(cloudformation(changed)).values() if "RedrivePolicy" in p)
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 9 and queue["VisibilityTimeout"] == 90


@pytest.mark.parametrize("role", ["worker", "producer", "sync-tasks"])
def test_no_role_may_create_list_or_change_a_queue(role):
    actions = {action for action, _ in grants(policy(app.conf, role), PREFIX, REGION)}
    assert actions <= {
        "sqs:GetQueueUrl",
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
    }


def test_the_worker_consumes_its_own_queues_only_and_sends_to_every_queue():
    worker = policy(app.conf, "worker")
    every = ["celery", app.conf.PLATFORM_QUEUE_NAME, *app.conf.QUEUES]
    for name in every:
        sqs_name = f"{PREFIX}-{name}"
        assert allows(worker, "SendMessage", sqs_name, PREFIX, REGION)
        own = name in app.conf.WORKER_QUEUES
        for operation in ("ReceiveMessage", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"):
            assert allows(worker, operation, sqs_name, PREFIX, REGION) is own, (operation, name)


def test_a_producer_only_finds_and_sends():
    producer = grants(policy(app.conf, "producer"), PREFIX, REGION)
    assert {action for action, _ in producer} == {"sqs:GetQueueUrl", "sqs:SendMessage"}


def test_the_command_writes_the_whole_template_or_nothing(tmp_path, capsys):
    out = tmp_path / "deploy" / "cloudformation.json"
    assert main(["{{ cookiecutter.package_name }}", "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == cloudformation(app.conf)
    assert [path.name for path in out.parent.iterdir()] == ["cloudformation.json"]
