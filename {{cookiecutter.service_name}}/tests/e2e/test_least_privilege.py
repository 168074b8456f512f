"""Each service touches only what it owns, and asks SQS only what its policy grants.

A proxy in front of LocalStack records every SQS call, with the access key
that signed it: each role (the worker, a producer, sync-tasks) gets a key of
its own. The queues are provisioned as the service's CloudFormation template
describes them (toolbox/infrastructure.py) and as the other services would
make theirs; the services run with QUEUES_PROVISIONED, so nothing creates or
changes a queue. Then every recorded call must be one the role's policy
grants, and every grant must have been needed.
"""

import json
import time
import uuid

import pytest
from celery import Celery, chord
from kombu import Connection, Queue

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.toolbox import Config, setup_app
from {{ cookiecutter.package_name }}.toolbox.infrastructure import cloudformation, iam_action, policy

from benchmarks.request_counter import RequestCounter
from local_stack.host.processes import wait_until
from tests.e2e.conftest import HostPlatform
from tests.e2e.probe_tasks import PRIMARY_QUEUE
from tests.e2e.sqs import SqsQueues
from tests.iam import arn, grants, statements

REGION = Settings.AWS_REGION
#: Short enough that a task of a few seconds has its message renewed, and a bad message dead-letters soon.
VISIBILITY, RECEIVES = 3, 2
ROLES = ("worker", "producer", "sync-tasks")
#: What may change a queue: never asked for by anyone here.
CHANGES = {"CreateQueue", "SetQueueAttributes", "DeleteQueue", "ListQueues", "PurgeQueue", "TagQueue"}


@pytest.fixture
def on_host(platform):
    if not isinstance(platform, HostPlatform):
        pytest.skip("starts services of its own, behind a recording proxy")
    return platform


def service_config(prefix, **settings):
    return Config(
        QUEUE_NAME_PREFIX=prefix,
        QUEUES=Settings.QUEUES,
        WORKER_QUEUES=Settings.WORKER_QUEUES,
        SQS_VISIBILITY_TIMEOUT=VISIBILITY,
        SQS_MAX_RECEIVE_COUNT=RECEIVES,
        SQS_WAIT_TIME_SECONDS=1,
        **settings,
    )


def provision(client, conf, prefix):
    """The service's queues as its CloudFormation template makes them; the others as their owners would."""
    template = cloudformation(conf)
    arns = {}
    queues = {key: value for key, value in template["Resources"].items() if value["Type"] == "AWS::SQS::Queue"}
    for logical_id, resource in sorted(queues.items(), key=lambda item: "RedrivePolicy" in item[1]["Properties"]):
        properties = resource["Properties"]
        attributes = {
            key: json.dumps({k: resolve(v, arns) for k, v in value.items()}) if isinstance(value, dict) else str(value)
            for key, value in properties.items()
            if key != "QueueName"
        }
        name = properties["QueueName"]["Fn::Sub"].replace("${QueuePrefix}", prefix)
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arns[logical_id] = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    owned = set(conf.WORKER_QUEUES)
    for name in [conf.PLATFORM_QUEUE_NAME, *conf.QUEUES]:
        if name not in owned:  # stock kombu's way: a visibility timeout, FIFO where the name says so
            attributes = {"VisibilityTimeout": "30", **({"FifoQueue": "true"} if name.endswith(".fifo") else {})}
            client.create_queue(QueueName=f"{prefix}-{name}", Attributes=attributes)


def resolve(value, arns):
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return arns[value["Fn::GetAtt"][0]]
    return value


def producer(recorder, prefix, monkeypatch):
    for name, value in role_environment("producer", recorder, prefix).items():
        monkeypatch.setenv(name, value)
    app = Celery("least-privilege-producer", set_as_current=False)
    app.config_from_object(Settings())
    assert setup_app(app) is True
    return app


def role_environment(role, recorder, prefix):
    return {
        "CELERY_BROKER_URL": f"sqs://{role}:secret@{recorder.address}",
        "QUEUE_PREFIX": prefix,
        "QUEUES_PROVISIONED": "true",
        "SQS_VISIBILITY_TIMEOUT": str(VISIBILITY),
        "SQS_MAX_RECEIVE_COUNT": str(RECEIVES),
        "SQS_WAIT_TIME_SECONDS": "1",
    }


def test_every_role_asks_only_what_its_policy_grants_and_needs_all_of_it(on_host, tmp_path, monkeypatch):
    prefix = f"e2e{uuid.uuid4().hex[:12]}"
    conf = service_config(prefix)
    sqs = SqsQueues(on_host.localstack_host, prefix, REGION)
    provision(sqs.client, conf, prefix)
    host, port = on_host.localstack_host.rsplit(":", 1)
    recorder = RequestCounter(host, int(port))
    services = []
    try:
        # sync-tasks, first with its database away: it gives the messages it cannot store back.
        cut_off = on_host.host.service(
            "sync-tasks",
            localstack_host=recorder.address,
            **role_environment("sync-tasks", recorder, prefix),
            PLATFORM_DATABASE_URL="postgresql://cadasta_platform:x@127.0.0.1:1/cadasta",
        )
        cut_off.log_path = tmp_path / "sync-tasks-cut-off.log"
        services.append(cut_off.start())
        cut_off.wait_for_log("Consuming")
        app = producer(recorder, prefix, monkeypatch)
        kept_back = app.send_task(f"{PRIMARY_QUEUE}.count_words", args=["kept back"])
        cut_off.wait_for_log(f"message {kept_back.id} not acknowledged")
        cut_off.stop()

        stub = on_host.host.service(
            "sync-tasks", localstack_host=recorder.address, **role_environment("sync-tasks", recorder, prefix)
        )
        stub.log_path = tmp_path / "sync-tasks.log"
        services.append(stub.start())
        worker = on_host.host.service(
            "worker",
            "--include",
            "tests.e2e.probe_tasks",
            localstack_host=recorder.address,
            **role_environment("worker", recorder, prefix),
        )
        worker.log_path = tmp_path / "worker.log"
        services.append(worker.start())
        worker.wait_for_log(" ready.")

        others = [name for name in conf.QUEUES if name not in conf.WORKER_QUEUES]
        sent = [
            app.send_task(f"{PRIMARY_QUEUE}.report_top_words", args=["a b b c c c"]),  # hands over a chain
            app.send_task(f"{PRIMARY_QUEUE}.report_top_words_of_parts", args=[["a b", "b c"]]),  # a chord
            app.send_task(f"{PRIMARY_QUEUE}.e2e_retry_once", args=["retried"]),
            app.send_task(f"{PRIMARY_QUEUE}.e2e_sleep", args=["renewed", 2 * VISIBILITY]),  # held past renewals
            *(app.send_task(f"{PRIMARY_QUEUE}.e2e_relay", args=[f"{name}.e2e_follow_up", "x"]) for name in others),
            *(app.send_task(f"{name}.e2e_from_a_producer", args=["x"]) for name in others),
        ]
        # A chord sent by the producer: the producer sends its chord_unlock to celery itself.
        header = [app.signature(f"{PRIMARY_QUEUE}.count_words", args=[text]) for text in ("a b", "b c")]
        merged = chord(header)(app.signature(f"{PRIMARY_QUEUE}.merge_top_words"))
        unreadable = sqs.client.send_message(QueueUrl=sqs.url(PRIMARY_QUEUE), MessageBody="not a task")["MessageId"]
        for result in (kept_back, merged, *sent[:4], *sent[4 : 4 + len(others)]):
            on_host.wait_until(result.id, lambda row: row["status"] == "SUCCESS", timeout=120)
        wait_until(
            lambda: [m["MessageId"] for m in sqs.raw_messages(f"{PRIMARY_QUEUE}-dlq")] == [unreadable],
            60,
            lambda: "the unreadable message never reached the dead-letter queue",
        )
        time.sleep(1)  # the last acknowledgements' batched deletes
    finally:
        for service in reversed(services):
            service.stop()
        recorder.close()

    calls = recorder.calls()
    assert {operation for _, operation, _ in calls} & CHANGES == set(), "a queue was created or changed"
    report = []
    for role in ROLES:
        granted = grants(policy(conf, role), prefix, REGION)
        used = {(iam_action(operation), arn(queue, REGION)) for key, operation, queue in calls if key == role}
        assert used, f"nothing recorded for {role}"
        refused = used - granted
        assert refused == set(), f"{role} needed what its policy does not grant: {sorted(refused)}"
        for sid, actions, resources in statements(policy(conf, role), prefix, REGION):
            unused_actions = {a for a in actions if not any((a, r) in used for r in resources)}
            unused_resources = {r for r in resources if not any((a, r) in used for a in actions)}
            assert unused_actions == set(), f"{role}'s {sid} grants {sorted(unused_actions)}, never needed"
            assert unused_resources == set(), f"{role}'s {sid} grants {sorted(unused_resources)}, never needed"
        report.append(f"{role}: {len(used)} (action, queue) pairs, all granted")
    print("\n" + "; ".join(report))


def test_starting_a_worker_leaves_other_services_queues_as_they_were(localstack_host, start_worker, stack_env):
    """Queues another service made with stock kombu: the worker finds and sends to them, nothing more."""
    prefix = stack_env["QUEUE_PREFIX"]
    sqs = SqsQueues(localstack_host, prefix, REGION)
    conf = service_config(prefix)
    listed = stack_env["QUEUES"].split(",")
    others = [conf.PLATFORM_QUEUE_NAME, *(name for name in listed if name not in conf.WORKER_QUEUES)]
    options = {"queue_name_prefix": f"{prefix}-", "region": REGION}
    with Connection(stack_env["CELERY_BROKER_URL"], transport_options=options) as stock:
        for name in others:
            Queue(name, routing_key=name).bind(stock.default_channel).declare()  # kombu's own SQS transport
    before = {name: attributes(sqs, name) for name in others}
    worker = start_worker()
    worker.wait_for_log(" ready.")
    assert {name: attributes(sqs, name) for name in others} == before
    names = {url.rsplit("/", 1)[1] for url in sqs.client.list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])}
    assert not {f"{prefix}-{name}-dlq" for name in others} & names, "another service's queue got a dead-letter queue"
    assert {f"{prefix}-{name}-dlq" for name in conf.WORKER_QUEUES} <= names


def attributes(sqs, name):
    found = sqs.client.get_queue_attributes(QueueUrl=sqs.url(name), AttributeNames=["All"])["Attributes"]
    volatile = {f"ApproximateNumberOfMessages{kind}" for kind in ("", "NotVisible", "Delayed")}
    return {key: value for key, value in found.items() if key not in volatile}
