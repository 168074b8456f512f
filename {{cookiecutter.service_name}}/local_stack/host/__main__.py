"""`make stack`: the local stack on this machine, without Docker, until Ctrl-C.

Starts LocalStack and Postgres on the ports docker-compose.yml publishes
(LOCALSTACK_PORT, POSTGRES_PORT from .env or .env.example), then sync-tasks
and the worker; prints where each listens and how to send a task and see it
tracked; streams the services' logs; and on Ctrl-C stops everything it
started.

    python -m local_stack.host
"""

import shutil
import signal
import subprocess
import sys
import threading
import time

from {{ cookiecutter.package_name }}.settings import Settings

from local_stack.host import run, stack
from local_stack.host.processes import StackError

LOGS = stack.PROJECT_ROOT / ".stack-logs"
#: Seconds between two looks at the services' log files.
FOLLOW_INTERVAL = 0.2


def follow(path, prefix, done):
    """Print the lines added to ``path`` (which may not exist yet), each after ``prefix``, until ``done``."""
    position = 0
    while not done.is_set():
        if path.exists():
            with open(path, "rb") as log:
                log.seek(position)
                chunk = log.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            position += len(complete)
            for line in complete.decode(errors="replace").splitlines():
                print(f"{prefix} | {line}", flush=True)
        time.sleep(FOLLOW_INTERVAL)


def commands(values, host):
    """The commands that send a task and show it tracked, for this stack's ports and settings."""
    broker = f"CELERY_BROKER_URL=sqs://test:test@{host.localstack_host.replace('127.0.0.1', 'localhost')}"
    for name, default in (("QUEUE_PREFIX", Settings.QUEUE_NAME_PREFIX), ("AWS_REGION", Settings.AWS_REGION)):
        if values.get(name, default) != default:
            broker += f" {name}={values[name]}"
    database = f"postgresql://cadasta_platform:{values['PLATFORM_DB_PASS']}@localhost:{host.db_port}/cadasta"
    return [
        f'{broker} python -c "from {{ cookiecutter.package_name }}.tasks import count_words; '
        "print(count_words.delay('to be or not to be').id)\"",
        f'psql {database} -c "SELECT task_id, type, input, parent_id, root_id, status, result FROM tracked_task"',
    ]


def announce(values, host):
    send, query = commands(values, host)
    print(
        "\nThe local stack is up:\n"
        f"  LocalStack SQS  http://{host.localstack_host}\n"
        f"  Postgres        {host.db_host}:{host.db_port}, database cadasta (the platform's and the results)\n"
        f"  sync-tasks      log: {host.log_path('sync-tasks')}\n"
        f"  worker          log: {host.log_path('worker')}\n\n"
        "Send a task (from this project's virtual environment, after `make install`):\n"
        f"  {send}\n"
        "See it tracked:\n"
        f"  {query}\n\n"
        "The services' logs follow. Ctrl-C stops everything.\n",
        flush=True,
    )


#: What stops the stack: Ctrl-C, `kill`, and the terminal closing (the services run in sessions of
#: their own, so they would outlive it).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def stop_on_signals():
    def interrupted(signum, frame):
        raise KeyboardInterrupt

    for number in STOP_SIGNALS:
        signal.signal(number, interrupted)


def stopping():
    """Stopping has begun (a signal, or a start that failed): a second Ctrl-C must not cut it short."""
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    print(
        "\nStopping: the worker finishes its running tasks and its long poll (up to SQS_WAIT_TIME_SECONDS) ...",
        flush=True,
    )


def main():
    stop_on_signals()
    values = stack.settings()
    shutil.rmtree(LOGS, ignore_errors=True)
    followed = threading.Event()  # set once the logs need following no more
    for name in run.READY_TEXT:
        threading.Thread(target=follow, args=(LOGS / f"{name}.log", f"{name:<10}", followed), daemon=True).start()
    print("Starting LocalStack, Postgres, sync-tasks and the worker on this machine ...", flush=True)
    try:
        ports = int(values["LOCALSTACK_PORT"]), int(values["POSTGRES_PORT"])
        with run.running(LOGS, values, ports=ports, on_stop=stopping) as host:
            announce(values, host)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass  # the services were stopped on the way out of the with block
    except (StackError, OSError, subprocess.CalledProcessError) as error:
        print(f"\nThe local stack could not start: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        time.sleep(FOLLOW_INTERVAL * 2)  # the services' last lines
        followed.set()
    print("\nStopped: LocalStack, Postgres, sync-tasks and the worker are no longer running.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
