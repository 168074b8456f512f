"""How fast the worker, a producer and the platform's ingest go, each against raw SQS in the same run.

    make bench                 # or: python -m benchmarks.throughput [--repetitions 3] [--tasks 500]

Starts LocalStack and a Postgres with the stack's SQL on this machine, as
`make stack` and the end-to-end tests do (E2E_STACK=compose uses a running `docker compose up`).
Each repetition measures, on queues of its own:

- producer: ``send_task`` after ``setup_app`` (both copies) vs serial ``send_message``;
- worker: ``celery worker -c 2`` draining its queue with results in Postgres,
  from "ready" to the last result stored, vs a receive(10) + DeleteMessageBatch drain;
- ingest: the sync-tasks stub storing the platform copies, from "Consuming" to
  the last row, vs the same raw drain on a FIFO queue.

Then it times a worker from start to "ready", and works out the SQS requests
an idle worker makes in a minute, by operation, from the requests a proxy in
front of LocalStack sees.

The machine may be busy: read the ratios, each of a path to the mean of the
baselines taken just before and just after it. This is a benchmark, not a
test: it prints figures and never fails on a slow machine.
"""

import argparse
import contextlib
import os
import re
import statistics
import sys
import time
import uuid

import psycopg2
from celery import Celery
from localstack_client.session import Session

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.tasks import count_words
from {{ cookiecutter.package_name }}.toolbox import setup_app

from .request_counter import RequestCounter
from local_stack.host import run, stack
from local_stack.host.processes import StackError, wait_until

TEXT = "the quick brown fox jumps over the lazy dog " * 4
#: Seconds one measured drain may take before it is reported as unfinished.
DRAIN_TIMEOUT = 300
#: Seconds between looks at a service's log or the database while it drains.
WATCH_INTERVAL = 0.25
#: Seconds an idle worker runs after "ready" before its requests are counted (its first polls).
IDLE_SETTLE = 2
START_TO_READY = "worker start to ready"
#: The timestamp a service's log line starts with, to the millisecond: "2026-01-31 12:00:00,123".
LOG_TIME = re.compile(r"(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(?P<ms>\d{3})")


class Bench:
    """A running stack as the benchmark uses it: raw SQS beside it, the platform database, and the
    services on queues of their own."""

    def __init__(self, host):
        self.host = host  # a run.HostStack
        self.sqs = Session(localstack_host=host.localstack_host, region_name=Settings.AWS_REGION).client("sqs")
        password = host.values["PLATFORM_DB_PASS"]
        self.platform_dsn = f"postgresql://cadasta_platform:{password}@{host.db_host}:{host.db_port}/cadasta"

    def service(self, name, prefix, *arguments, sqs_address=None):
        """The compose service ``name`` on queues prefixed ``prefix``; ``sqs_address`` stands in for LocalStack's."""
        return self.host.service(name, *arguments, localstack_host=sqs_address, QUEUE_PREFIX=prefix)

    def count(self, sql, ids):
        with contextlib.closing(psycopg2.connect(self.platform_dsn)) as connection, connection.cursor() as cursor:
            cursor.execute(sql, (list(ids),))
            return cursor.fetchone()[0]


@contextlib.contextmanager
def running_stack(logs):
    if os.environ.get("E2E_STACK") == "compose":
        values = stack.settings()
        localstack_host = f"localhost:{values['LOCALSTACK_PORT']}"
        yield Bench(run.HostStack(values, localstack_host, "localhost", int(values["POSTGRES_PORT"]), logs))
        return
    print("Starting LocalStack and Postgres on this machine, as `make stack` does ...", flush=True)
    with run.running(logs, services=()) as host:
        yield Bench(host)


# -- Raw baselines: boto3 alone ------------------------------------------------


def scratch_queue(bench, fifo=False):
    name = f"bench{uuid.uuid4().hex[:10]}" + (".fifo" if fifo else "")
    attributes = {"FifoQueue": "true"} if fifo else {}
    return bench.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


def fill(bench, url, count, body, fifo=False):
    for start in range(0, count, 10):
        entries = [{"Id": str(n), "MessageBody": body} for n in range(min(10, count - start))]
        if fifo:
            for entry in entries:
                entry.update(MessageGroupId=uuid.uuid4().hex, MessageDeduplicationId=uuid.uuid4().hex)
        bench.sqs.send_message_batch(QueueUrl=url, Entries=entries)


def raw_drain(bench, count, fifo=False):
    """Messages per second drained by receive(10) + DeleteMessageBatch."""
    url = scratch_queue(bench, fifo)
    fill(bench, url, count, TEXT, fifo)
    drained, started = 0, time.perf_counter()
    while drained < count:
        messages = bench.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        if messages:
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)]
            bench.sqs.delete_message_batch(QueueUrl=url, Entries=entries)
            drained += len(messages)
    rate = count / (time.perf_counter() - started)
    bench.sqs.delete_queue(QueueUrl=url)
    return rate


def raw_send(bench, count, body):
    """Messages per second sent one at a time with send_message."""
    url = scratch_queue(bench)
    started = time.perf_counter()
    for _ in range(count):
        bench.sqs.send_message(QueueUrl=url, MessageBody=body)
    rate = count / (time.perf_counter() - started)
    bench.sqs.delete_queue(QueueUrl=url)
    return rate


# -- The paths -------------------------------------------------------------------


def producer_app(bench, prefix):
    for name, value in bench.host.environment("worker", QUEUE_PREFIX=prefix).items():
        os.environ[name] = value
    app = Celery(f"bench-{prefix}", set_as_current=False)
    app.config_from_object(Settings())
    setup_app(app)
    return app


def produce(app, count):
    """Tasks per second sent by send_task, and their ids."""
    ids, started = [], time.perf_counter()
    for _ in range(count):
        ids.append(app.send_task(count_words.name, args=[TEXT]).id)
    return count / (time.perf_counter() - started), ids


def drain_with(process, ready_text, done_text, done):
    """Seconds from starting a service to ``ready_text`` in its log, and from there to its last ``done_text``.

    ``done()`` says when the drain is over; the times come from the log's own
    timestamps, as noticing the lines would add up to ``WATCH_INTERVAL`` to a
    drain that may last half a second.
    """
    started = time.time()
    process.start()
    try:
        wait_for(lambda: ready_text in process.log(since_start=True), 120, process)
        wait_for(done, DRAIN_TIMEOUT, process)
        lines = process.log(since_start=True).splitlines()
    finally:
        process.stop()
    ready = logged_at(next(line for line in lines if ready_text in line))
    finished = max(logged_at(line) for line in lines if done_text in line)
    return ready - started, finished - ready


def logged_at(line):
    """The time a log line was written, from the timestamp it starts with (Celery's format and the stub's)."""
    found = LOG_TIME.search(line)
    if found is None:
        raise ValueError(f"no timestamp in this log line: {line!r}")
    return time.mktime(time.strptime(found["when"], "%Y-%m-%d %H:%M:%S")) + int(found["ms"]) / 1000


def wait_for(condition, timeout, process):
    """Wait until ``condition()`` holds while ``process`` runs.

    The figures come from the services' log timestamps, not from when this
    notices: looking more often would only load the machine being measured
    (each look at the database is a new connection, a new Postgres process).
    """

    def holds():
        if process.process.poll() is not None:
            raise StackError(f"{process.name} exited; its log ends:\n{process.log()[-3000:]}")
        return condition()

    wait_until(holds, timeout, lambda: f"{process.name} did not finish within {timeout} s", interval=WATCH_INTERVAL)


def bracketed(measure_baseline, measure_path):
    """(path's figure, mean of the baseline measured just before and just after it).

    A raw drain of a few hundred messages lasts a fraction of a second, so one
    moment of a busy machine moves it; two, either side of the path, also
    follow the machine's drift while the path runs.
    """
    before = measure_baseline()
    figure = measure_path()
    return figure, (before + measure_baseline()) / 2


def repetition(bench, tasks):
    prefix = f"bench{uuid.uuid4().hex[:10]}"
    body = TEXT * 8  # about the size of a task message
    figures = {}
    (rate, ids), baseline = bracketed(
        lambda: raw_send(bench, tasks, body), lambda: produce(producer_app(bench, prefix), tasks)
    )
    figures["producer: send_task, two copies"] = (rate, baseline)

    worker = bench.service("worker", prefix, "--pool", "prefork", "--concurrency", "2")
    stored = "SELECT count(*) FROM celery_taskmeta WHERE task_id = ANY(%s) AND status = 'SUCCESS'"
    (to_ready, seconds), baseline = bracketed(
        lambda: raw_drain(bench, tasks),
        lambda: drain_with(worker, " ready.", "] succeeded in ", lambda: bench.count(stored, ids) == len(ids)),
    )
    figures["worker -c 2, results in Postgres"] = (tasks / seconds, baseline)
    figures[START_TO_READY] = to_ready

    stub = bench.service("sync-tasks", prefix)
    rows = "SELECT count(*) FROM platform_task WHERE task_id = ANY(%s)"
    (_, seconds), baseline = bracketed(
        lambda: raw_drain(bench, tasks, fifo=True),
        lambda: drain_with(stub, "Consuming", " sync_tasks: task ", lambda: bench.count(rows, ids) == len(ids)),
    )
    figures["platform ingest (sync-tasks stub)"] = (tasks / seconds, baseline)
    return figures


def idle_requests(bench, seconds):
    """SQS requests per minute, by operation, of a worker that has nothing to do."""
    host, port = bench.host.localstack_host.rsplit(":", 1)
    counter = RequestCounter(host, int(port))
    worker = bench.service("worker", f"idle{uuid.uuid4().hex[:10]}", sqs_address=counter.address)
    worker.start()
    try:
        wait_for(lambda: " ready." in worker.log(since_start=True), 120, worker)
        time.sleep(IDLE_SETTLE)
        counter.reset()
        time.sleep(seconds)
        rates = counter.per_minute()
    finally:
        worker.stop()
        counter.close()
    return rates


def spread(values, digits=1):
    return f"{min(values):8.{digits}f} {statistics.median(values):8.{digits}f} {max(values):8.{digits}f}"


def report(results, idle):
    print(f"\n{'path':<36} {'rate/s min   median      max':>28}   {'raw/s min   median      max':>28}   ratio (median)")
    for path in [path for path in results[0] if path != START_TO_READY]:
        rates = [figures[path][0] for figures in results]
        baselines = [figures[path][1] for figures in results]
        ratios = [rate / baseline for rate, baseline in zip(rates, baselines, strict=True)]
        print(f"{path:<36} {spread(rates):>28}   {spread(baselines):>28}   {statistics.median(ratios):.3f}")
    print(f"\n{START_TO_READY + ', s':<36} {spread([figures[START_TO_READY] for figures in results], 2):>28}")
    if idle is not None:
        total = sum(idle.values())
        operations = ", ".join(f"{name} {rate:.1f}" for name, rate in sorted(idle.items()))
        print(f"{'idle worker, SQS requests/minute':<36} {total:>8.1f}   ({operations or 'none'})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=500, help="tasks (and raw messages) per measurement")
    parser.add_argument("--idle-seconds", type=float, default=60, help="how long to count an idle worker's requests")
    arguments = parser.parse_args(argv)
    logs = stack.PROJECT_ROOT / ".bench-logs"
    logs.mkdir(exist_ok=True)
    with running_stack(logs) as bench:
        results = []
        for number in range(1, arguments.repetitions + 1):
            print(f"repetition {number} of {arguments.repetitions} ...", flush=True)
            results.append(repetition(bench, arguments.tasks))
        idle = None
        if arguments.idle_seconds > 0:
            print(f"counting an idle worker's requests for {arguments.idle_seconds:.0f} s ...", flush=True)
            idle = idle_requests(bench, arguments.idle_seconds)
    report(results, idle)
    print(f"\nLogs of the services measured: {logs}")


if __name__ == "__main__":
    sys.exit(main())
