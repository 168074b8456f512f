"""The whole local stack on this machine, started one way for `make stack`, the end-to-end tests and `make bench`.

LocalStack and a throwaway Postgres with the stack's SQL, then sync-tasks and
the worker with the commands and environment docker-compose.yml gives them,
each waited for until it is ready. Leaving the ``with`` block stops them all,
whatever ended it.
"""

import contextlib
from pathlib import Path

from local_stack.host import localstack, postgres, stack

#: The services started after LocalStack and Postgres, in order, and what each logs once it is ready.
READY_TEXT = {"sync-tasks": "Consuming", "worker": " ready."}


class HostStack:
    """Where LocalStack and Postgres listen, and the stack's services as processes against them."""

    def __init__(self, values, localstack_host, db_host, db_port, logs, overrides=None):
        self.values = values
        self.localstack_host, self.db_host, self.db_port = localstack_host, db_host, db_port
        self.logs = Path(logs)
        self.overrides = dict(overrides or {})
        self.processes = {}

    def environment(self, name, localstack_host=None, **overrides):
        """The service's compose environment, pointed at this machine's LocalStack and Postgres.

        ``localstack_host`` stands in for LocalStack's address: a proxy in front of it, say.
        """
        localstack_host = localstack_host or self.localstack_host
        environment = stack.on_host(stack.environment(name, self.values), localstack_host, self.db_host, self.db_port)
        return {
            **environment,
            "HEARTBEAT_FILE": str(self.logs / f"{name}.heartbeat"),
            **self.overrides,
            **overrides,
        }

    def service(self, name, *arguments, localstack_host=None, **overrides):
        """A process for the compose service ``name`` (its command, then ``arguments``), not started,
        logging to ``<logs>/<name>.log``."""
        environment = self.environment(name, localstack_host, **overrides)
        return stack.Process(name, [*stack.command(name), *arguments], environment, self.log_path(name))

    def log_path(self, name):
        return self.logs / f"{name}.log"

    def start(self, name, **overrides):
        """Start ``name`` and wait until it is ready; it is stopped with the stack."""
        process = self.service(name, **overrides)
        self.processes[name] = process
        process.start().wait_for_log(READY_TEXT[name])
        return process

    def stop(self, name):
        process = self.processes.pop(name, None)
        if process is not None:
            process.stop()
        return process

    def stop_all(self):
        """Tell every service to stop at once, then wait for each: one slow to stop delays none of the others."""
        names = list(reversed(self.processes))
        for name in names:
            self.processes[name].signal_stop()
        try:
            for name in names:
                self.stop(name)
        finally:
            for name in list(self.processes):  # only if waiting was cut short
                self.processes.pop(name).kill()


@contextlib.contextmanager
def running(
    logs, values=None, services=tuple(READY_TEXT), localstack_host=None, ports=(None, None), on_stop=None, **overrides
):
    """Yield a started ``HostStack``: LocalStack, Postgres and ``services``.

    LocalStack is the one at ``localstack_host`` (or LOCALSTACK_HOST) if
    given, else one started here. ``ports`` are LocalStack's and Postgres's;
    None means a free one, so that tests never meet another stack.
    ``overrides`` go into every service's environment. ``on_stop()`` is
    called once stopping begins, whatever caused it: a failed start too.
    """
    values = stack.settings() if values is None else values
    database = stack.environment("postgres", values)
    localstack_port, postgres_port = ports
    Path(logs).mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as started:
        try:
            if localstack_host is None:
                localstack_host = started.enter_context(localstack.running(localstack_port))
            server = started.enter_context(
                postgres.running(stack.init_sql_dir(), database["POSTGRES_DB"], database, postgres_port)
            )
            host = HostStack(values, localstack_host, server.host, server.port, logs, overrides)
            started.callback(host.stop_all)
            for name in services:
                host.start(name)
            yield host
        finally:
            if on_stop is not None:
                on_stop()
