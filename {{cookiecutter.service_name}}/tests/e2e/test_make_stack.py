"""`make stack` as a newcomer runs it: up, a task sent and seen tracked with the commands it prints (the
README's), Ctrl-C, and nothing left running."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from local_stack.host import localstack, stack
from local_stack.host.processes import free_port, refuse_taken_port, wait_until
from tests.e2e.conftest import ON_COMPOSE

README = stack.PROJECT_ROOT / "README.md"
#: The ports the README's commands name: docker-compose.yml's defaults.
README_PORTS = {"LOCALSTACK_PORT": "4566", "POSTGRES_PORT": "5433"}


def printed_command(log, heading):
    lines = log.splitlines()
    return next(lines[i + 1].strip() for i, line in enumerate(lines) if line.startswith(heading))


def leftovers(markers):
    """Processes whose command line or environment holds any of ``markers``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            seen = Path(f"/proc/{pid}/cmdline").read_bytes() + Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if int(pid) != os.getpid() and any(marker.encode() in seen for marker in markers):
            found.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
    return found


def listening_addresses(port):
    """The IPv4 addresses that sockets listen on at ``port``, from /proc/net/tcp (state 0A is LISTEN)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        address, hex_port = fields[1].split(":")
        if fields[3] == "0A" and int(hex_port, 16) == int(port):
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def is_listening(port):
    try:
        refuse_taken_port(port, "probe", "probe")
    except RuntimeError:
        return True
    return False


@pytest.mark.skipif(ON_COMPOSE, reason="make stack is the way to run the stack without Docker")
def test_make_stack_runs_the_readme_commands_and_stops_everything_on_ctrl_c(tmp_path):
    ports = {"LOCALSTACK_PORT": str(free_port()), "POSTGRES_PORT": str(free_port())}
    environment = {name: value for name, value in os.environ.items() if name != "LOCALSTACK_HOST"}
    environment.update(ports, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    log_path = tmp_path / "make-stack.log"
    with open(log_path, "wb") as log:
        make = subprocess.Popen(
            ["make", "stack"],
            cwd=stack.PROJECT_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(
            lambda: "Ctrl-C stops everything" in stack.read_log(log_path) or make.poll() is not None,
            300,
            lambda: f"make stack never came up; its output ends:\n{stack.read_log(log_path)[-3000:]}",
        )
        output = stack.read_log(log_path)
        assert make.poll() is None, output[-3000:]
        # As compose publishes them: to this machine only.
        for port in ports.values():
            assert listening_addresses(port) == {"127.0.0.1"}, port
        send, query = printed_command(output, "Send a task"), printed_command(output, "See it tracked")
        readme = README.read_text()
        for command in (send, query):
            as_in_readme = command
            for name, port in ports.items():
                as_in_readme = as_in_readme.replace(f":{port}", f":{README_PORTS[name]}")
            assert as_in_readme in readme, f"the README does not show {as_in_readme!r}"
        sent = subprocess.run(send, shell=True, env=environment, capture_output=True, text=True, timeout=60)
        assert sent.returncode == 0, sent.stderr
        task_id = sent.stdout.strip()

        def tracked():
            rows = subprocess.run(query, shell=True, env=environment, capture_output=True, text=True, timeout=30)
            return any(
                task_id in line and "SUCCESS" in line and "count_words" in line for line in rows.stdout.splitlines()
            )

        wait_until(
            tracked, 60, lambda: f"task {task_id} was not tracked; make stack says:\n{stack.read_log(log_path)[-3000:]}"
        )
        # The stored row can be seen a moment before make stack has printed the line that says so.
        wait_until(
            lambda: f"task {task_id}" in stack.read_log(log_path),
            30,
            lambda: f"make stack never printed sync-tasks' line for {task_id}:\n{stack.read_log(log_path)[-3000:]}",
        )
        output = stack.read_log(log_path)
        assert "sync-tasks |" in output and "worker     |" in output
    finally:
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in its terminal does
        make.wait(timeout=120)
    output = stack.read_log(log_path)
    assert "Stopped:" in output and "Traceback" not in output, output[-3000:]
    assert [port for port in ports.values() if is_listening(port)] == []
    markers = [str(stack.PROJECT_ROOT / ".stack-logs"), f"127.0.0.1:{ports['LOCALSTACK_PORT']}"]
    assert leftovers(markers) == []


@pytest.mark.skipif(ON_COMPOSE, reason="the LocalStack installed on this machine")
def test_the_cached_localstack_runs_outside_the_harness():
    cli = localstack.install().parent / "localstack"
    result = subprocess.run([cli, "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "LocalStack" in result.stdout, result.stderr


@pytest.mark.skipif(ON_COMPOSE, reason="a sync-tasks process of the test's own")
def test_ctrl_c_stops_sync_tasks_without_a_traceback(platform, tmp_path):
    stub = platform.service("sync-tasks")
    stub.log_path = tmp_path / "sync-tasks.log"
    # Started as a shell without job control (a CI script's `&`) starts it: SIGINT ignored, inherited.
    inherited = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        stub.start()
    finally:
        signal.signal(signal.SIGINT, inherited)
    try:
        stub.wait_for_log("Consuming")
        os.killpg(stub.process.pid, signal.SIGINT)
        code = stub.process.wait(timeout=30)
    finally:
        stub.stop()  # one that ignored Ctrl-C would consume the session's platform queue for good
    assert code == 0
    assert "Traceback" not in stub.log() and "KeyboardInterrupt" not in stub.log(), stub.log()[-3000:]
