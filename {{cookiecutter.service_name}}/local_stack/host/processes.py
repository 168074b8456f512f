"""What every part of the harness needs: a free port, waiting, stopping."""

import contextlib
import os
import signal
import socket
import subprocess
import time


class StackError(RuntimeError):
    """The local stack could not start, or a part of it did not do what was waited for; the message says
    what was seen instead."""


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def refuse_taken_port(port, service, setting):
    """Raise a StackError that says what to do when something already listens on 127.0.0.1:``port``."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", int(port))) == 0:
            raise StackError(
                f"Port {port} for {service} is taken: something already listens there (a `docker compose up` "
                f"stack, another `make stack`?). Stop it, or set {setting} in .env to a free port."
            )


def wait_until(check, timeout, failure, interval=0.3):
    """Return the first true value of ``check()``; after ``timeout`` seconds raise
    StackError with ``failure()``, which says what was seen instead."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise StackError(failure())
        time.sleep(interval)


def stop_process_group(process, timeout=40):
    """SIGTERM the process and its children (started with start_new_session), SIGKILL if they linger.

    The whole group, even when its leader has already exited: children may not have."""
    signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        signal_group(process, signal.SIGKILL)
        process.wait()


def signal_group(process, number):
    """Send signal ``number`` to the process group ``process`` leads, if any of it is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, number)
