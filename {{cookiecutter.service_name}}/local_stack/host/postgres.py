"""A throwaway Postgres on a free port, initialised with the stack's own SQL files.

Uses the installed server binaries (PG_BIN, else pg_config's, else Debian's
/usr/lib/postgresql/<major>/bin), so it needs no Docker. The SQL files in
local_stack/postgres/ are the ones docker-compose.yml mounts into
docker-entrypoint-initdb.d, run the same way: by psql, as the superuser, in
name order, against the platform database. The caller passes that folder
(local_stack/host/stack.py reads it from docker-compose.yml).
"""

import contextlib
import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from local_stack.host.processes import StackError, free_port, refuse_taken_port

SUPERUSER = "postgres"
PSQL_MAJOR = 15


def bin_dir():
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    if shutil.which("pg_config"):
        found = Path(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip())
        if (found / "initdb").exists():
            return found
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if debian:
        return Path(debian[-1]).parent
    if shutil.which("initdb"):
        return Path(shutil.which("initdb")).parent
    raise StackError(
        "No PostgreSQL server binaries (initdb, pg_ctl) found. Install them (Debian: apt-get install postgresql), "
        "set PG_BIN to their folder, or run `docker compose up` and set E2E_STACK=compose."
    )


def as_server_user():
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    if os.geteuid() != 0:
        return [], None
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        raise StackError("Running as root needs a 'postgres' user to run the throwaway server as.") from None
    return ["runuser", "-u", "postgres", "--"], user


def check_psql(binaries):
    """The init SQL reads passwords with psql's \\getenv, new in PostgreSQL 15."""
    found = subprocess.run([binaries / "psql", "--version"], capture_output=True, text=True).stdout
    major = re.search(r"(\d+)(?:\.\d+)?", found)
    if not major or int(major.group(1)) < PSQL_MAJOR:
        raise StackError(f"The stack's SQL needs psql {PSQL_MAJOR} or newer; {binaries} has {found.strip()!r}.")


class Server:
    """A throwaway server of its own: where it listens, and how to stop and start it again on the same port."""

    def __init__(self, binaries, prefix, root, port):
        self.binaries, self.prefix, self.root, self.port = binaries, prefix, root, port
        self.host = "127.0.0.1"
        self.data, self.sockets = root / "data", root / "sockets"

    def pg_ctl(self, *arguments):
        return [*self.prefix, self.binaries / "pg_ctl", "-D", self.data, *arguments]

    def start(self):
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses={self.host} -c fsync=off"
        run(self.pg_ctl("-l", self.root / "server.log", "-w", "-t", "60", "start", "-o", options))

    def stop(self, mode="fast"):
        """Stop the server: ``fast`` ends sessions cleanly, ``immediate`` as a crash would."""
        run(self.pg_ctl("-m", mode, "-w", "stop"))

    def psql(self, database):
        connection = ["-h", self.sockets, "-p", self.port, "-U", SUPERUSER, "-d", database]
        return [self.binaries / "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *connection]


@contextlib.contextmanager
def running(sql_dir, database, environment, port=None):
    """Yield a fresh ``Server`` on ``port`` (else a free one) whose ``database`` ran ``sql_dir``'s SQL files
    with ``environment``."""
    if port is not None:
        refuse_taken_port(port, "Postgres", "POSTGRES_PORT")
    binaries = bin_dir()
    check_psql(binaries)
    prefix, user = as_server_user()
    root = Path(tempfile.mkdtemp(prefix="platform-db-"))
    server = Server(binaries, prefix, root, port or free_port())
    server.sockets.mkdir()
    if user:
        for path in (root, server.sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    try:
        authentication = ["--auth-local=trust", "--auth-host=scram-sha-256"]
        run([*prefix, binaries / "initdb", "-D", server.data, "-U", SUPERUSER, *authentication])
        try:
            server.start()
            run([*server.psql("postgres"), "-c", f'CREATE DATABASE "{database}"'], environment)
            for path in sorted(Path(sql_dir).glob("*.sql")):
                run([*server.psql(database), "-f", path], environment)
            yield server
        finally:
            # Also after a start that failed or timed out: the server may be up all the same.
            subprocess.run(server.pg_ctl("-m", "immediate", "-w", "stop"), capture_output=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(command, environment=None):
    command = [str(part) for part in command]
    result = subprocess.run(command, env={**os.environ, **(environment or {})}, capture_output=True, text=True)
    if result.returncode:
        raise StackError(f"{' '.join(command)} failed:\n{result.stderr}{result.stdout}")
