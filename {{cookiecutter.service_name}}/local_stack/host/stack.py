"""The local stack of docker-compose.yml, run on the host.

docker-compose.yml stays the one description of the stack: this module reads
the services' commands and environment from it (with .env.example, then .env,
then the process environment filling in ${VARIABLES}), points the service
host names at the host's LocalStack and Postgres, and runs the same commands
as subprocesses.
"""

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from local_stack.host.processes import StackError, signal_group, stop_process_group, wait_until

PROJECT_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
ENV_FILE = PROJECT_ROOT / ".env"
INTERPOLATION = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")
# Service host names inside the compose network.
LOCALSTACK_ADDRESS = "localstack:4566"
POSTGRES_ADDRESS = "postgres:5432"


def read_env_file(path):
    values = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                name, value = line.split("=", 1)
                values[name.strip()] = value.strip()
    return values


def settings():
    """What docker compose would interpolate with: .env.example < .env < the environment."""
    values = {**read_env_file(ENV_EXAMPLE), **read_env_file(ENV_FILE)}
    values.update((name, os.environ[name]) for name in list(values) if name in os.environ)
    return values


def compose():
    return yaml.safe_load(COMPOSE_FILE.read_text())


def health_check_command():
    """The image's HEALTHCHECK command, as the container runs it (HEARTBEAT_FILE from the environment)."""
    found = re.search(r"HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])", DOCKERFILE.read_text())
    if not found:
        raise LookupError("The Dockerfile has no HEALTHCHECK ... CMD [...] over two lines")
    return json.loads(found.group(1))


def is_healthy(heartbeat_file):
    """Whether the image's health check passes for a service whose heartbeat file is ``heartbeat_file``."""
    environment = {**os.environ, "HEARTBEAT_FILE": str(heartbeat_file)}
    return subprocess.run(health_check_command(), env=environment, capture_output=True).returncode == 0


def interpolate(value, values):
    return INTERPOLATION.sub(lambda m: values.get(m.group(1), m.group(2) or ""), str(value))


def command(service):
    """The service's compose command, run by this Python: the image's python and
    celery are the same programs as this environment's."""
    program, *arguments = [str(part) for part in compose()["services"][service]["command"]]
    launcher = {"python": [sys.executable], "celery": [sys.executable, "-m", "celery"]}
    if program not in launcher:
        raise ValueError(f"docker-compose.yml runs {program!r} for {service}; the host harness runs python or celery")
    return [*launcher[program], *arguments]


def environment(service, values=None):
    values = settings() if values is None else values
    return {name: interpolate(value, values) for name, value in compose()["services"][service]["environment"].items()}


def init_sql_dir():
    """The folder the compose file mounts as the Postgres init scripts."""
    for volume in compose()["services"]["postgres"]["volumes"]:
        source, target = volume.split(":")[:2]
        if target == "/docker-entrypoint-initdb.d":
            return (PROJECT_ROOT / source).resolve()
    raise LookupError("docker-compose.yml mounts no /docker-entrypoint-initdb.d for postgres")


def on_host(env, localstack_host, db_host, db_port):
    """A compose service's environment with the service host names replaced by the host's."""
    moved = {name: value.replace(LOCALSTACK_ADDRESS, localstack_host) for name, value in env.items()}
    moved = {name: value.replace(POSTGRES_ADDRESS, f"{db_host}:{db_port}") for name, value in moved.items()}
    if "RESULT_DB_HOST" in moved:
        moved["RESULT_DB_HOST"], moved["RESULT_DB_PORT"] = db_host, str(db_port)
    return moved


class Process:
    """One stack service as a subprocess, its output kept in a log file."""

    def __init__(self, name, argv, env, log_path):
        self.name, self.argv, self.env, self.log_path = name, argv, env, Path(log_path)
        self.process = None
        self.started_at = 0  # where in the log this run's output starts

    def start(self):
        self.started_at = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=PROJECT_ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def stop(self):
        if self.process is not None:
            stop_process_group(self.process)

    def signal_stop(self):
        """Ask the service to stop (SIGTERM to its group) without waiting; ``stop`` waits."""
        if self.process is not None:
            signal_group(self.process, signal.SIGTERM)

    def kill(self):
        if self.process is not None:
            signal_group(self.process, signal.SIGKILL)

    def wait_for_log(self, text, timeout=90):
        """Wait until this run (not an earlier one in the same log) has logged ``text``."""

        def logged():
            if self.process.poll() is not None:
                raise StackError(f"{self.name} exited; its log ends:\n{self.log()[-4000:]}")
            return text in self.log(since_start=True)

        wait_until(logged, timeout, lambda: f"{self.name} never logged {text!r}; its log ends:\n{self.log()[-4000:]}")

    def log(self, since_start=False):
        return read_log(self.log_path, self.started_at if since_start else 0)


def read_log(path, start=0):
    """What a service logged to ``path`` from byte ``start`` on, as text; nothing if it never started."""
    path = Path(path)
    return path.read_bytes()[start:].decode(errors="replace") if path.exists() else ""
