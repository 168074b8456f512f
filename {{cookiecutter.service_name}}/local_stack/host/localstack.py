"""LocalStack SQS on the host, for machines without Docker.

Installs LocalStack into a virtual environment of its own (once per machine,
cached under ~/.cache, about a minute, with pip's progress shown), starts it
on a port and stops it again. Under `docker compose`, or with any running
LocalStack, set LOCALSTACK_HOST=host:port and nothing is installed or started.

    python -m local_stack.host.localstack install   # what the first test run would do
"""

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from local_stack.host.processes import StackError, free_port, refuse_taken_port, stop_process_group, wait_until

REQUIREMENTS = Path(__file__).with_name("localstack-requirements.txt")
#: Written last into a finished environment: one without it is an install that was cut off.
COMPLETE_MARKER = ".installed"
START_TIMEOUT = 120
# LocalStack's host runtime pinned here supports exactly this Python.
PYTHON_VERSION = "3.11"


def venv_dir():
    return Path(os.environ.get("LOCALSTACK_VENV", default_venv_dir()))


def default_venv_dir():
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "cadasta-worker" / f"localstack-{digest}"


def find_python():
    python = os.environ.get("LOCALSTACK_PYTHON") or shutil.which(f"python{PYTHON_VERSION}")
    if not python:
        raise StackError(
            f"LocalStack's host runtime needs python{PYTHON_VERSION}, which is not on PATH. "
            f"Install it, point LOCALSTACK_PYTHON at one, or run `docker compose up` and set LOCALSTACK_HOST."
        )
    return python


def install(progress=sys.__stderr__):
    """Return the LocalStack venv's python, creating the venv if needed.

    The venv is built where it stays: its scripts' shebangs name that path, so
    a venv built elsewhere and moved would not run. An install cut off midway
    has no COMPLETE_MARKER and is built again from scratch.
    """
    target = venv_dir()
    python = target / "bin" / "python"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{target}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one installer at a time; the others wait and reuse it
        if (target / COMPLETE_MARKER).exists():
            return python
        if target.exists():
            if not is_ours(target):
                raise StackError(
                    f"{target} exists but is not a LocalStack environment this harness installed. Remove it, or "
                    "point LOCALSTACK_VENV at another folder."
                )
            shutil.rmtree(target)  # an install cut off midway, or one made before the marker existed
        print(f"Installing LocalStack into {target} (once per machine, about a minute) ...", file=progress, flush=True)
        try:
            subprocess.run([find_python(), "-m", "venv", str(target)], check=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "--progress-bar", "off", "-r", str(REQUIREMENTS)],
                check=True,
                stdout=progress,
                stderr=subprocess.STDOUT,
            )
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        (target / COMPLETE_MARKER).touch()
        print("LocalStack installed.", file=progress, flush=True)
    return python


def is_ours(target):
    """Whether ``target`` may be removed to install again: empty, or in this harness's own cache folder."""
    return not any(target.iterdir()) or target.parent == default_venv_dir().parent


def sqs_is_ready(host):
    try:
        with urllib.request.urlopen(f"http://{host}/_localstack/health", timeout=2) as response:
            health = response.read()
        return b'"sqs": "available"' in health or b'"sqs": "running"' in health
    except OSError:
        return False


#: LocalStack's own default server: the faster one, but it listens on every interface, whatever
#: GATEWAY_LISTEN says. hypercorn listens where it is told.
DEFAULT_GATEWAY_SERVER = "twisted"
#: For a port a person uses (`make stack`, .env's LOCALSTACK_PORT): this machine only, as compose publishes it.
LOOPBACK_GATEWAY_SERVER = "hypercorn"


class Server:
    """A LocalStack of its own on ``host``, which a test may stop and start again, empty, on the same port."""

    def __init__(self, python, root, host, gateway_server=DEFAULT_GATEWAY_SERVER):
        self.python, self.root, self.host = python, Path(root), host
        self.gateway_server = gateway_server
        self.log_path = self.root / "localstack.log"
        self.process = None

    def start(self):
        data = self.root / "data"
        shutil.rmtree(data, ignore_errors=True)  # every start is empty, as after a region fail-over
        data.mkdir()
        env = {
            **os.environ,
            "SERVICES": "sqs",
            "GATEWAY_LISTEN": self.host,
            "GATEWAY_SERVER": self.gateway_server,
            "FILESYSTEM_ROOT": str(data),
            "LOCALSTACK_VOLUME_DIR": str(data),
            "DNS_ADDRESS": "0",  # no DNS server on port 53
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",
        }
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(self.python), "-m", "localstack.runtime.main"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(
            lambda: self.process.poll() is not None or sqs_is_ready(self.host),
            START_TIMEOUT,
            lambda: f"LocalStack did not start on {self.host}; its log ends:\n{self.log()}",
        )
        if self.process.poll() is not None:
            raise StackError(f"LocalStack exited on start; its log ends:\n{self.log()}")

    def stop(self):
        if self.process is not None:
            stop_process_group(self.process, timeout=20)
            self.process = None

    def log(self):
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""


@contextlib.contextmanager
def running(port=None):
    """Yield the host:port of a LocalStack with SQS, started here (on ``port``, else a free one) unless
    LOCALSTACK_HOST names one."""
    if os.environ.get("LOCALSTACK_HOST"):
        yield os.environ["LOCALSTACK_HOST"]
        return
    with own_server(port) as server:
        yield server.host


@contextlib.contextmanager
def own_server(port=None):
    """Yield a started ``Server`` on ``port`` (else a free one), stopped at the end."""
    if port is not None:
        refuse_taken_port(port, "LocalStack", "LOCALSTACK_PORT")
    python = install()
    with tempfile.TemporaryDirectory(prefix="localstack-") as root:
        # A port given is one a person reaches (make stack): there it listens on this machine only. Tests and
        # the bench take a free port and the faster server.
        gateway_server = LOOPBACK_GATEWAY_SERVER if port is not None else DEFAULT_GATEWAY_SERVER
        server = Server(python, root, f"127.0.0.1:{port or free_port()}", gateway_server)
        try:
            server.start()
            yield server
        finally:
            server.stop()


if __name__ == "__main__":
    if sys.argv[1:] == ["install"]:
        print(install())
    else:
        sys.exit(__doc__)
