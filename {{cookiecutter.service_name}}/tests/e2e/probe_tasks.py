"""Tasks and hooks the end-to-end tests load into a real worker (celery worker -I ...)."""

import json
import os
import time
from pathlib import Path

from celery import signals

from {{ cookiecutter.package_name }}.celery import app
from {{ cookiecutter.package_name }}.settings import Settings

PRIMARY_QUEUE = Settings.WORKER_QUEUES[0]


@app.task(bind=True, name=f"{PRIMARY_QUEUE}.e2e_relay")
def relay(self, task_name, marker):
    """Send a follow-up task from inside a running task, as real workers do."""
    return self.app.send_task(task_name, args=[marker]).id


@app.task(bind=True, name=f"{PRIMARY_QUEUE}.e2e_retry_once")
def retry_once(self, marker):
    """Fail the first run and be retried: the retry is a new message on this worker's queue."""
    if not self.request.retries:
        raise self.retry(countdown=0)
    return marker


@app.task(name=f"{PRIMARY_QUEUE}.e2e_sleep")
def sleep(marker, seconds):
    """Sleep, recording each start and end in E2E_REPORT_DIR/runs.log, to count runs and completions."""
    record(f"start {marker} {os.getpid()}")
    time.sleep(seconds)
    record(f"end {marker} {os.getpid()}")
    return marker


def record(line):
    folder = os.environ.get("E2E_REPORT_DIR")
    if folder:
        with open(Path(folder) / "runs.log", "a") as runs:  # one short append: whole lines, even from two processes
            runs.write(line + "\n")


@app.task(name=f"{PRIMARY_QUEUE}.e2e_report_topology")
def report_topology_from_a_pool_child():
    report_topology("child")


@signals.worker_ready.connect(weak=False)
def report_topology_from_the_main_process(sender=None, **kwargs):
    report_topology("main")


def report_topology(process):
    """Write what a fresh connection of this process routes where, for the test to read."""
    folder = os.environ.get("E2E_REPORT_DIR")
    if folder:
        report = {"pid": os.getpid(), **topology_seen(app)}
        (Path(folder) / f"{process}-{os.getpid()}.json").write_text(json.dumps(report))


def topology_seen(app):
    """What a fresh channel of ``app`` holds, inspected the way the original toolbox's tests do."""
    exchange = app.conf.task_default_exchange
    with app.connection() as connection:
        channel = connection.channel()
        try:
            table = channel.get_table(exchange)
            return {
                "type": channel.state.exchanges[exchange]["type"],
                "lookup": {
                    queue: list(channel.typeof(exchange).lookup(table, exchange, queue, None))
                    for queue in ["celery", *app.conf.QUEUES]
                },
            }
        finally:
            channel.close()
