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
    """One virtual environment for the session, made by the baked README's own
    install command (`pip install -e '.[test]'`) on the default project. Every
    variant pins the same dependencies, and pytest imports each variant's
    package from its own directory."""
    environment = tmp_path_factory.mktemp("worker-venv")
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", ".[test]"],
        cwd=baked_matrix["defaults"],
        check=True,
    )
    return python


@pytest.fixture(scope="session")
def worker_environment(worker_python):
    """The process environment with the shared virtual environment first on PATH,
    as `. .venv/bin/activate` would leave it: the Makefile's commands find its tools."""
    return {**os.environ, "PATH": f"{worker_python.parent}{os.pathsep}{os.environ['PATH']}"}


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
