"""Broker outages and bad set-up, each on a LocalStack of the test's own that it stops and starts.

A broker that comes back is empty, as after a region fail-over: the worker
and the stub must create their queues again and consume, without a restart,
and their health checks must fail while they cannot. The result database's
outage is in test_delivery.py.
"""

import time
import uuid

import pytest

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.toolbox import SetupError, setup_app

from local_stack.host import localstack, stack
from local_stack.host.processes import free_port, wait_until
from tests.e2e.conftest import HostPlatform, producer_app
from tests.e2e.probe_tasks import PRIMARY_QUEUE
from tests.e2e.sqs import SqsQueues
from tests.e2e.test_delivery import SLEEP, Runs

#: Seconds within which a stuck service must fail its health check, and a recovered one consume again.
UNHEALTHY_WITHIN = 60
CONSUMING_WITHIN = 30


@pytest.fixture
def broker():
    with localstack.own_server() as server:
        yield server


def queue_names(sqs):
    urls = sqs.client.list_queues(QueueNamePrefix=sqs.prefix).get("QueueUrls", [])
    return {url.rsplit("/", 1)[1][len(sqs.prefix) + 1 :] for url in urls}


def stop_until_unhealthy(broker, service, heartbeat):
    """Stop the broker once ``service`` is healthy; seconds until its health check fails."""
    wait_until(lambda: stack.is_healthy(heartbeat), 15, lambda: f"{service.name}'s health check never passed")
    broker.stop()
    stopped_at = time.monotonic()
    still = f"{service.name}'s health check still passes with the broker down; its log ends:\n"
    wait_until(lambda: not stack.is_healthy(heartbeat), UNHEALTHY_WITHIN, lambda: still + service.log()[-3000:])
    return time.monotonic() - stopped_at


def test_the_worker_consumes_again_after_the_broker_comes_back_empty(
    broker, stack_env, start_worker, tmp_path, monkeypatch
):
    runs, heartbeat = Runs(tmp_path), tmp_path / "worker.heartbeat"
    environment = {
        **stack_env,
        "CELERY_BROKER_URL": f"sqs://test:test@{broker.host}",
        "E2E_REPORT_DIR": str(runs.folder),
        "HEARTBEAT_FILE": str(heartbeat),
    }
    worker = start_worker(concurrency=2, **environment)
    worker.wait_for_log(" ready.")
    producer = producer_app(environment, monkeypatch)
    producer.send_task(SLEEP, args=["held", 3])
    runs.wait_for("start", ["held"], 30)
    unhealthy_after = stop_until_unhealthy(broker, worker, heartbeat)
    assert worker.process.poll() is None, "the worker exited during the outage"
    runs.wait_for("end", ["held"], 30)  # the task it held ran to the end

    broker.start()
    back_at = time.monotonic()
    sqs = SqsQueues(broker.host, environment["QUEUE_PREFIX"], Settings.AWS_REGION)
    own_queues = {PRIMARY_QUEUE, f"{PRIMARY_QUEUE}-dlq", "celery", "celery-dlq"}
    wait_until(
        lambda: own_queues <= queue_names(sqs),
        CONSUMING_WITHIN,
        lambda: f"the worker did not create {own_queues} again; SQS holds {queue_names(sqs)}",
    )
    recreated_after = time.monotonic() - back_at
    markers = [f"after-{n}" for n in range(20)]
    for marker in markers:
        producer.send_task(SLEEP, args=[marker, 0.1])
    wait_until(lambda: any(runs.count("end", m) for m in markers), CONSUMING_WITHIN, lambda: "nothing completed")
    first_after = time.monotonic() - back_at
    runs.wait_for("end", markers, 60)
    all_after = time.monotonic() - back_at
    wait_until(lambda: stack.is_healthy(heartbeat), 15, lambda: "the health check did not pass again")
    assert worker.process.poll() is None and worker.log().count(" ready.") == 1, "the worker restarted"
    print(
        f"\nbroker down and back empty: unhealthy {unhealthy_after:.1f} s after it stopped; after it came back, "
        f"queues and dead-letter queues created again in {recreated_after:.1f} s, sent 20, completed 20, lost 0, "
        f"first done in {first_after:.1f} s, all in {all_after:.1f} s; healthy again, no restart"
    )


def test_the_stub_consumes_again_after_the_broker_comes_back_empty(broker, platform, tmp_path):
    if not isinstance(platform, HostPlatform):
        pytest.skip("needs a sync-tasks process the tests start themselves")
    prefix = f"e2e{uuid.uuid4().hex[:12]}"
    heartbeat = tmp_path / "stub.heartbeat"
    stub = platform.service("sync-tasks", CELERY_BROKER_URL=f"sqs://test:test@{broker.host}", QUEUE_PREFIX=prefix)
    stub.env["HEARTBEAT_FILE"] = str(heartbeat)
    stub.log_path = tmp_path / "stub.log"
    stub.start().wait_for_log("Consuming")
    try:
        unhealthy_after = stop_until_unhealthy(broker, stub, heartbeat)
        broker.start()
        back_at = time.monotonic()
        sqs = SqsQueues(broker.host, prefix, Settings.AWS_REGION)
        wait_until(lambda: "platform.fifo" in queue_names(sqs), CONSUMING_WITHIN, lambda: "platform.fifo not created")
        wait_until(lambda: stack.is_healthy(heartbeat), CONSUMING_WITHIN, lambda: "the stub never healthy again")
        healthy_after = time.monotonic() - back_at
        assert stub.process.poll() is None, "the stub exited"
    finally:
        stub.stop()
    print(
        f"\nstub, broker down and back empty: unhealthy {unhealthy_after:.1f} s after it stopped, "
        f"platform.fifo created again and healthy {healthy_after:.1f} s after it came back"
    )


def test_the_stub_stops_on_sigterm_while_it_cannot_reach_the_broker(platform, tmp_path):
    if not isinstance(platform, HostPlatform):
        pytest.skip("needs a sync-tasks process the tests start themselves")
    stub = platform.service("sync-tasks", CELERY_BROKER_URL=f"sqs://test:test@127.0.0.1:{free_port()}")
    stub.log_path = tmp_path / "stub.log"
    try:
        stub.start().wait_for_log("Broker connection error")
        stub.signal_stop()
        started = time.monotonic()
        code = stub.process.wait(timeout=30)
        took = time.monotonic() - started
    finally:
        stub.stop()  # one that ignored SIGTERM must not outlive the test
    assert code == 0 and "Stopped while waiting for SQS." in stub.log(), stub.log()[-3000:]
    assert took < 3, f"took {took:.1f} s"
    print(f"\nstub, broker unreachable: exit code {code} {took:.1f} s after SIGTERM")


def test_a_worker_that_cannot_reach_its_broker_exits_at_start_up(stack_env, start_worker):
    closed = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    worker = start_worker(CELERY_BROKER_URL=f"sqs://test:sekrit-{uuid.uuid4().hex}@{closed}", STARTUP_TIMEOUT="5")
    code = worker.process.wait(timeout=60)
    took = time.monotonic() - started
    log = worker.log()
    assert code == 1 and " ready." not in log, log[-3000:]
    assert f"Cannot set up the queues at http://{closed} (region {Settings.AWS_REGION})" in log, log[-3000:]
    assert "Check CELERY_BROKER_URL, AWS_REGION and the AWS credentials." in log
    assert "sekrit" not in log
    assert took < 5 + 30, f"took {took:.1f} s"
    print(f"\nclosed broker port: exit code {code} after {took:.1f} s (STARTUP_TIMEOUT=5), never ready")


def test_a_producer_that_cannot_reach_its_broker_gets_the_same_clear_error(stack_env, monkeypatch):
    closed = f"127.0.0.1:{free_port()}"
    producer = producer_app({**stack_env, "CELERY_BROKER_URL": f"sqs://test:test@{closed}"}, monkeypatch)
    with pytest.raises(SetupError, match=rf"Cannot set up the queues at http://{closed} \(region "):
        setup_app(producer, timeout=1)
