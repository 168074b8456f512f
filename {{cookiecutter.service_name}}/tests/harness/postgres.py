"""A throwaway Postgres on a free port, initialised with the stack's own SQL files.

Uses the installed server binaries (PG_BIN, else pg_config's, else Debian's
/usr/lib/postgresql/<major>/bin), so it needs no Docker. The SQL files in
local_stack/postgres/ are the ones docker-compose.yml mounts into
docker-entrypoint-initdb.d, run the same way: by psql, as the superuser, in
name order, against the platform database. The caller passes that folder
(tests/harness/stack.py reads it from docker-compose.yml).
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

from tests.harness.processes import free_port

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
    raise RuntimeError(
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
        raise RuntimeError("Running as root needs a 'postgres' user to run the throwaway server as.") from None
    return ["runuser", "-u", "postgres", "--"], user


def check_psql(binaries):
    """The init SQL reads passwords with psql's \\getenv, new in PostgreSQL 15."""
    found = subprocess.run([binaries / "psql", "--version"], capture_output=True, text=True).stdout
    major = re.search(r"(\d+)(?:\.\d+)?", found)
    if not major or int(major.group(1)) < PSQL_MAJOR:
        raise RuntimeError(f"The stack's SQL needs psql {PSQL_MAJOR} or newer; {binaries} has {found.strip()!r}.")


@contextlib.contextmanager
def running(sql_dir, database, environment):
    """Yield (host, port) of a fresh server whose ``database`` ran ``sql_dir``'s SQL files with ``environment``."""
    binaries = bin_dir()
    check_psql(binaries)
    prefix, user = as_server_user()
    root = Path(tempfile.mkdtemp(prefix="platform-db-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if user:
        for path in (root, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    port = free_port()
    try:
        run(
            [
                *prefix,
                binaries / "initdb",
                "-D",
                data,
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ]
        )
        try:
            options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
            run(
                [
                    *prefix,
                    binaries / "pg_ctl",
                    "-D",
                    data,
                    "-l",
                    root / "server.log",
                    "-w",
                    "-t",
                    "60",
                    "start",
                    "-o",
                    options,
                ]
            )
            psql = [binaries / "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", sockets, "-p", port, "-U", SUPERUSER]
            run([*psql, "-d", "postgres", "-c", f'CREATE DATABASE "{database}"'], environment)
            for path in sorted(Path(sql_dir).glob("*.sql")):
                run([*psql, "-d", database, "-f", path], environment)
            yield "127.0.0.1", port
        finally:
            # Also after a start that failed or timed out: the server may be up all the same.
            subprocess.run(
                [*prefix, binaries / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(command, environment=None):
    command = [str(part) for part in command]
    result = subprocess.run(command, env={**os.environ, **(environment or {})}, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}{result.stdout}")
