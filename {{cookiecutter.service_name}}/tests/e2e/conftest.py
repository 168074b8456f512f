import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from celery import Celery

from {{ cookiecutter.package_name }}.settings import Settings
from tests.e2e.sqs import SqsQueues
from tests.harness import localstack

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: A queue only the tests use: follow-up tasks go there and stay to be counted.
PROBE_QUEUE = "e2eprobe"


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(item.fspath).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def localstack_host():
    with localstack.running() as host:
        yield host


@pytest.fixture
def stack_env(localstack_host):
    """The environment a worker gets in the local stack, with queues of its own per test."""
    return {
        "CELERY_BROKER_URL": f"sqs://test:test@{localstack_host}",
        "QUEUE_PREFIX": f"e2e{uuid.uuid4().hex[:12]}",
        "QUEUES": ",".join([*Settings.QUEUES, PROBE_QUEUE]),
        # Results are not what these tests look at; keep them off Postgres.
        "CELERY_RESULT_BACKEND": "cache+memory://",
        "SQS_WAIT_TIME_SECONDS": "1",
    }


@pytest.fixture
def app(stack_env, monkeypatch):
    """A producer app configured as the worker is, from the environment."""
    for name, value in stack_env.items():
        monkeypatch.setenv(name, value)
    producer = Celery("e2e-producer", set_as_current=False)
    producer.config_from_object(Settings())
    yield producer
    producer.close()


@pytest.fixture
def sqs(localstack_host, stack_env):
    return SqsQueues(localstack_host, stack_env["QUEUE_PREFIX"], Settings.AWS_REGION)


@pytest.fixture
def worker(stack_env):
    """A real prefork worker, as `celery -A {{ cookiecutter.package_name }} worker` runs it, plus the probe tasks."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "{{ cookiecutter.package_name }}",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--include",
                "tests.e2e.probe_tasks",
                "--loglevel",
                "INFO",
            ],
            cwd=PROJECT_ROOT,
            env={**os.environ, **stack_env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace")[-4000:])
