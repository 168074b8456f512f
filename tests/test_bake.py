"""Bake the matrix of answers: every project is complete, rendered and clean."""

import json
import os
import re
import shutil

import pytest

from tests.conftest import TEMPLATE, run
from tests.matrix import MATRIX, package_name

#: How many end-to-end tests a baked project has: all of them must run, none skip.
E2E_TESTS = 70
# Jinja openers (a lone "}}" is ordinary Python or JSON; "${{" is a GitHub
# Actions expression) and any cookiecutter variable.
UNRENDERED = re.compile(r"(?<!\$){{|{%|{#|cookiecutter\.")


@pytest.mark.parametrize("variant", MATRIX)
def test_the_project_has_every_part(baked_matrix, variant):
    project = baked_matrix[variant]
    package = project / package_name(MATRIX[variant])
    expected = [
        "pyproject.toml",
        "README.md",
        "tests/test_functional.py",
        "tests/e2e/test_routing_sqs.py",
        f"{package.name}/celery.py",
        f"{package.name}/tasks.py",
        f"{package.name}/services.py",
        f"{package.name}/toolbox/config.py",
        f"{package.name}/toolbox/setup.py",
        f"{package.name}/toolbox/conformance.py",
        f"{package.name}/toolbox/transport.py",
        f"{package.name}/toolbox/contract.py",
        f"{package.name}/toolbox/upstream.py",
        f"{package.name}/toolbox/sqs/lifecycle.py",
    ]
    assert [path for path in expected if not (project / path).is_file()] == []


@pytest.mark.parametrize("variant", MATRIX)
def test_every_file_is_fully_rendered(baked_matrix, variant):
    project = baked_matrix[variant]
    leftovers = []
    for path in sorted(p for p in project.rglob("*") if p.is_file()):
        assert "cookiecutter" not in str(path.relative_to(project)), path
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if UNRENDERED.search(line):
                leftovers.append(f"{path.relative_to(project)}:{number}: {line.strip()}")
    assert leftovers == []


def test_the_readme_says_what_the_worker_is_once(baked_matrix):
    readme = (baked_matrix["defaults"] / "README.md").read_text()
    description = json.loads((TEMPLATE / "cookiecutter.json").read_text())["description"]
    assert readme.count(description) == 1


@pytest.mark.parametrize("variant", MATRIX)
def test_make_lint_passes(baked_matrix, worker_environment, variant):
    """CI's lint step, by hand: ruff and hadolint on the untouched project."""
    result = run(["make", "lint"], cwd=baked_matrix[variant], env=worker_environment)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("variant", MATRIX)
def test_make_test_passes(baked_matrix, worker_environment, variant):
    """CI's test step, by hand: the project's own unit and conformance tests."""
    result = run(["make", "test"], cwd=baked_matrix[variant], env=worker_environment)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert re.search(r"\d+ passed", result.stdout) and "failed" not in result.stdout


def test_the_ci_commands_work_with_no_virtual_environment_active(baked_matrix, tmp_path):
    """CI activates nothing: make install makes .venv, and the other targets run from it."""
    project = tmp_path / "project"
    shutil.copytree(baked_matrix["defaults"], project)
    environment = {name: value for name, value in os.environ.items() if name != "VIRTUAL_ENV"}
    for target in ("install", "test"):
        result = run(["make", target], cwd=project, env=environment, timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (project / ".venv" / "bin" / "pytest").exists() and " passed" in result.stdout


@pytest.mark.parametrize("variant", ["defaults", "custom-prefix"])
def test_the_end_to_end_suite_passes_on_the_host(baked_matrix, worker_environment, variant):
    """The project's end-to-end tests, on this machine without Docker: LocalStack
    SQS, a throwaway Postgres, the sync-tasks stub and the worker, all started by
    the project's own harness from its docker-compose.yml."""
    result = run(["make", "e2e"], cwd=baked_matrix[variant], env=worker_environment, timeout=1200)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]
    assert re.search(rf"\b{E2E_TESTS} passed", result.stdout) and "skipped" not in result.stdout, result.stdout[-3000:]


def test_make_bench_prints_its_table_on_the_default_bake(baked_matrix, worker_environment, capsys):
    """The benchmark runs once, on the default bake, and its table goes to the log. It asserts the
    table is there, never a speed: figures on a shared machine are for reading."""
    result = run(["make", "bench"], cwd=baked_matrix["defaults"], env=worker_environment, timeout=1200)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]
    table = result.stdout[result.stdout.index("path ") :] if "path " in result.stdout else ""
    for path in ("producer", "worker -c 2", "platform ingest", "worker start to ready", "idle worker"):
        assert path in table, result.stdout[-3000:]
    with capsys.disabled():
        print(f"\n--- make bench (default bake) ---\n{table}")
