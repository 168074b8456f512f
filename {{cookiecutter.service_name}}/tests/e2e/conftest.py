"""The stack the end-to-end tests run against.

By default everything runs on this machine without Docker, started as
`make stack` starts it (local_stack/host/run.py) but on free ports: LocalStack,
a throwaway Postgres with the stack's SQL, and the sync-tasks stub and the
worker with the commands and environment of docker-compose.yml. With
E2E_STACK=compose the tests use a running `docker compose up` instead, reached
as .env (or .env.example) describes.
"""

import contextlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import psycopg2.extras
import pytest
from celery import Celery

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.toolbox import setup_app

from local_stack.host import localstack, run, stack
from local_stack.host.processes import wait_until
from tests.e2e.sqs import SqsQueues

#: A queue only the tests use: follow-up tasks go there and stay to be counted.
PROBE_QUEUE = "e2eprobe"
ON_COMPOSE = os.environ.get("E2E_STACK") == "compose"


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(item.fspath).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def localstack_host(pytestconfig):
    if ON_COMPOSE and not os.environ.get("LOCALSTACK_HOST"):
        yield f"localhost:{stack.settings()['LOCALSTACK_PORT']}"
        return
    if not os.environ.get("LOCALSTACK_HOST"):
        # The first run installs LocalStack, for about a minute: show pip's progress, not a silent wait.
        with pytestconfig.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
            localstack.install()
    with localstack.running() as host:
        yield host


# -- Routing: a worker per test, on queues of its own ---------------------


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
    return producer_app(stack_env, monkeypatch)


def producer_app(environment, monkeypatch):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    producer = Celery("e2e-producer", set_as_current=False)
    producer.config_from_object(Settings())
    return producer


@pytest.fixture
def sqs(localstack_host, stack_env):
    return SqsQueues(localstack_host, stack_env["QUEUE_PREFIX"], Settings.AWS_REGION)


@pytest.fixture
def start_worker(stack_env, tmp_path):
    """Start real prefork workers, as `celery -A {{ cookiecutter.package_name }} worker` runs them, plus the
    probe tasks; each with the test's environment and any overrides. All stop at the end of the test."""
    started = []

    def start(concurrency=1, **overrides):
        number = len(started)
        process = stack.Process(
            f"worker-{number}",
            [
                *stack.command("worker"),
                *("--pool", "prefork", "--concurrency", str(concurrency), "--include", "tests.e2e.probe_tasks"),
            ],
            {**stack_env, **overrides},
            tmp_path / f"worker-{number}.log",
        ).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
        sys.stderr.write(f"\n--- {process.name} log (end) ---\n{process.log()[-4000:]}")


@pytest.fixture
def worker(start_worker):
    return start_worker()


# -- The platform: tasks tracked by sync-tasks, results in Postgres -------


class Platform:
    """What the tests use of a running stack, however it was started."""

    def __init__(self, values, localstack_host, db_host, db_port):
        self.values = values
        self.localstack_host, self.db_host, self.db_port = localstack_host, db_host, db_port
        worker = stack.on_host(stack.environment("worker", values), localstack_host, db_host, db_port)
        self.producer_env = {name: worker[name] for name in ("CELERY_BROKER_URL", "QUEUE_PREFIX", "AWS_REGION")}
        self.platform_dsn = f"postgresql://cadasta_platform:{values['PLATFORM_DB_PASS']}@{db_host}:{db_port}/cadasta"
        self.worker_dsn = f"postgresql://cadasta_worker:{values['RESULT_DB_PASS']}@{db_host}:{db_port}/cadasta"
        self.sqs = SqsQueues(localstack_host, self.producer_env["QUEUE_PREFIX"], self.producer_env["AWS_REGION"])

    def query(self, sql, *parameters, dsn=None):
        with (
            contextlib.closing(psycopg2.connect(dsn or self.platform_dsn)) as connection,
            connection,
            connection.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor,
        ):
            cursor.execute(sql, parameters)
            return cursor.fetchall() if cursor.description else None

    def tracked(self, task_id):
        rows = self.query("SELECT * FROM tracked_task WHERE task_id = %s", task_id)
        if not rows:
            return None
        row = rows[0]
        row["result"] = None if row["result"] is None else json.loads(row["result"])
        return row

    def wait_until(self, task_id, condition, timeout=90):
        """The task's tracked row once ``condition(row)`` holds."""

        def row_if_ready():
            row = self.tracked(task_id)
            return row if row is not None and condition(row) else None

        return wait_until(
            row_if_ready, timeout, lambda: f"task {task_id} never got there; its tracked row is {self.tracked(task_id)}"
        )

    def wait_for_task_and_result(self, task_id, status="SUCCESS"):
        return self.wait_until(task_id, lambda row: row["type"] is not None and row["status"] == status)


class HostPlatform(Platform):
    """The stack `make stack` starts, on free ports, with queues of this session's own."""

    def __init__(self, host):
        super().__init__(host.values, host.localstack_host, host.db_host, host.db_port)
        self.host = host

    def service(self, name, **overrides):
        return self.host.service(name, **overrides)

    def start_sync_tasks(self):
        self.host.start("sync-tasks")

    def stop_sync_tasks(self):
        self.host.stop("sync-tasks")


class ComposePlatform(Platform):
    def start_sync_tasks(self):
        subprocess.run(["docker", "compose", "start", "sync-tasks"], cwd=stack.PROJECT_ROOT, check=True)

    def stop_sync_tasks(self):
        subprocess.run(["docker", "compose", "stop", "sync-tasks"], cwd=stack.PROJECT_ROOT, check=True)


@pytest.fixture(scope="session")
def platform(localstack_host, tmp_path_factory):
    values = stack.settings()
    if ON_COMPOSE:
        yield ComposePlatform(values, localstack_host, "localhost", int(values["POSTGRES_PORT"]))
        return
    values["QUEUE_PREFIX"] = f"e2e{uuid.uuid4().hex[:12]}"  # queues of this session's own
    logs = tmp_path_factory.mktemp("stack")
    # Stop within a second when told to, not after a 20 s long poll.
    with run.running(logs, values, localstack_host=localstack_host, SQS_WAIT_TIME_SECONDS="1") as host:
        try:
            yield HostPlatform(host)
        finally:
            for name in run.READY_TEXT:
                sys.stderr.write(f"\n--- {name} log (end) ---\n{stack.read_log(host.log_path(name))[-3000:]}")


@pytest.fixture
def producer(platform, monkeypatch):
    """A process that only produces tasks: configured like the worker, set up once."""
    app = producer_app(platform.producer_env, monkeypatch)
    assert setup_app(app) is True
    return app
