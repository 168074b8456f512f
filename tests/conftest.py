import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml
from cookiecutter.main import cookiecutter

from tests.matrix import MATRIX

TEMPLATE = Path(__file__).resolve().parents[1]
#: The template's test environment, where check-jsonschema, hadolint and pre-commit live.
BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def baked_matrix(tmp_path_factory):
    """Every variant of the matrix, baked once for the session: {name: project dir}."""
    projects = {}
    for name, answers in MATRIX.items():
        output = tmp_path_factory.mktemp(f"bake-{name}")
        projects[name] = Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=output))
    return projects


@pytest.fixture(scope="session")
def worker_python(baked_matrix, tmp_path_factory):
    """One virtual environment for the session, made as the baked README says (a venv, activated, then
    `make install`: exactly uv.lock) on the default project. Every variant locks the same dependencies,
    and pytest imports each variant's package from its own directory."""
    environment = tmp_path_factory.mktemp("worker-venv")
    venv.create(environment, with_pip=True)
    subprocess.run(["make", "install"], cwd=baked_matrix["defaults"], env=activated(environment), check=True)
    return environment / "bin" / "python"


def activated(environment):
    """The process environment as `. <environment>/bin/activate` leaves it: the Makefile's commands find its
    tools, and uv installs into it."""
    path = f"{environment / 'bin'}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, "VIRTUAL_ENV": str(environment), "PATH": path}


@pytest.fixture(scope="session")
def worker_environment(worker_python):
    return activated(worker_python.parent.parent)


def run(command, cwd, **kwargs):
    """Run a command; return its CompletedProcess with output as text."""
    return subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True, **kwargs)


def check_schema(schema, files, cwd):
    """Validate files against one of check-jsonschema's built-in schemas."""
    result = run([BIN / "check-jsonschema", "--builtin-schema", schema, *files], cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr


def compose(project):
    return yaml.safe_load((project / "docker-compose.yml").read_text())


def ruff():
    return [sys.executable, "-m", "ruff"]
