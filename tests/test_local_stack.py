"""The local stack's files, checked where they cannot run: no Docker here.

Compose files are validated against the Compose specification, Dockerfiles
linted with hadolint, and what they run is run on the host: the Dockerfile's
own commands here, the compose services through the baked project's harness
(its end-to-end suite, in test_bake.py).
"""

import json
import re
from pathlib import Path

import pytest

from tests.conftest import BIN, TEMPLATE, check_schema, compose, run
from tests.matrix import MATRIX, package_name

COMPOSE_DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")


@pytest.mark.parametrize("variant", MATRIX)
def test_compose_file_follows_the_compose_specification(baked_matrix, variant):
    check_schema("vendor.compose-spec", ["docker-compose.yml"], baked_matrix[variant])


def test_the_templates_own_compose_file_includes_the_default_stack(baked_matrix):
    check_schema("vendor.compose-spec", ["docker-compose.yml"], TEMPLATE)
    (included,) = compose(TEMPLATE)["include"]
    assert included["path"] == f".stack/{baked_matrix['defaults'].name}/docker-compose.yml"


@pytest.mark.parametrize("variant", MATRIX)
def test_hadolint_reports_nothing(baked_matrix, variant):
    result = run([BIN / "hadolint", "--no-color", "Dockerfile"], cwd=baked_matrix[variant])
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


@pytest.mark.parametrize("variant", MATRIX)
def test_the_stack_is_wired_as_the_contract_needs(baked_matrix, variant):
    project, package = baked_matrix[variant], package_name(MATRIX[variant])
    services = compose(project)["services"]
    assert "version" not in compose(project)
    assert services["localstack"]["image"] == "localstack/localstack:4.14.0"
    assert services["localstack"]["environment"]["SERVICES"] == "sqs"
    assert re.fullmatch(r"postgres:\d+\.\d+-\w+", services["postgres"]["image"])
    for name, service in services.items():
        assert "healthcheck" in service or "build" in service, f"{name} has no health check"  # built ones: Dockerfile's
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond this machine"
        for dependency in service.get("depends_on", {}).values():
            assert dependency == {"condition": "service_healthy"}
    assert services["worker"]["command"] == ["celery", "-A", package, "worker", "--loglevel", "INFO"]
    assert services["worker"]["restart"] == services["sync-tasks"]["restart"] == "on-failure"
    assert services["sync-tasks"]["command"] == ["python", "-m", "local_stack.sync_tasks"]
    dockerfile = (project / "Dockerfile").read_text()
    assert f"CMD {json.dumps(services['worker']['command'])}" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "USER 10001" in dockerfile


@pytest.mark.parametrize("variant", ["defaults", "custom-prefix"])
def test_env_example_holds_the_compose_defaults(baked_matrix, variant):
    project = baked_matrix[variant]
    example = dict(
        line.split("=", 1)
        for line in (project / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    defaults = dict(COMPOSE_DEFAULT.findall((project / "docker-compose.yml").read_text()))
    assert defaults == example


def test_the_harness_runs_what_compose_describes(baked_matrix, worker_python):
    """Ask the baked project's own harness what it would run, and compare with the compose file."""
    project = baked_matrix["defaults"]
    report = run(
        [
            worker_python,
            "-c",
            (
                "import json, sys\n"
                "from local_stack.host import stack\n"
                "print(json.dumps({\n"
                "  'worker': stack.command('worker'), 'sync-tasks': stack.command('sync-tasks'),\n"
                "  'sql': str(stack.init_sql_dir()),\n"
                "  'env': {s: sorted(stack.environment(s)) for s in ('worker', 'sync-tasks', 'postgres')},\n"
                "  'python': sys.executable}))"
            ),
        ],
        cwd=project,
    )
    assert report.returncode == 0, report.stderr
    harness = json.loads(report.stdout)
    services = compose(project)["services"]
    python = [harness["python"]]
    for name in ("worker", "sync-tasks"):
        program, *arguments = services[name]["command"]
        expected = {"python": python, "celery": [*python, "-m", "celery"]}[program] + arguments
        assert harness[name] == expected
        assert harness["env"][name] == sorted(services[name]["environment"])
    assert harness["env"]["postgres"] == sorted(services["postgres"]["environment"])
    assert Path(harness["sql"]) == project / "local_stack" / "postgres"
    assert sorted(p.name for p in Path(harness["sql"]).glob("*.sql")) == [
        "10-roles.sql",
        "20-platform-tasks.sql",
        "30-result-tables.sql",
        "40-tracked-tasks-view.sql",
    ]


def test_the_dockerfile_installs_exactly_the_lock_and_leaves_its_tools_behind(baked_matrix):
    project = baked_matrix["defaults"]
    dockerfile = (project / "Dockerfile").read_text()
    build, runtime, *images = re.split(r"^FROM .*$", dockerfile, flags=re.MULTILINE)[1:]
    assert re.search(r"^FROM \S+ AS build$", dockerfile, re.MULTILINE)
    assert "COPY pyproject.toml uv.lock ./" in build and "uv sync --locked" in build
    assert "COPY --from=build /app/.venv /app/.venv" in runtime
    for final in (runtime, *images):  # the stages the images are made of
        assert "pip install" not in final and "uv " not in final, "a final stage installs something"
    # One uv everywhere: the Dockerfile's, the Makefile's and the lock's own.
    makefile_uv = re.search(r"^UV_VERSION = (\S+)$", (project / "Makefile").read_text(), re.MULTILINE).group(1)
    locked_uv = re.search(r'"uv==([\d.]+)"', (project / "pyproject.toml").read_text()).group(1)
    assert re.findall(r"uv==([\d.]+)", build) == [makefile_uv] == [locked_uv]


def test_the_dockerfile_health_check_reads_the_heartbeat(baked_matrix, tmp_path):
    dockerfile = (baked_matrix["defaults"] / "Dockerfile").read_text()
    (command,) = re.findall(r"HEALTHCHECK .*?CMD (\[.*?\])\n", dockerfile, re.S)
    heartbeat = tmp_path / "heartbeat"
    env = {"HEARTBEAT_FILE": str(heartbeat), "PATH": "/usr/bin:/bin"}
    assert run(json.loads(command), cwd=tmp_path, env=env).returncode != 0  # no heartbeat yet
    heartbeat.touch()
    assert run(json.loads(command), cwd=tmp_path, env=env).returncode == 0


@pytest.mark.parametrize("variant", MATRIX)
def test_the_published_image_holds_the_worker_and_not_the_local_stack(baked_matrix, variant):
    """`make image` and CI build the Dockerfile's last stage; only compose's sync-tasks needs local_stack/."""
    project = baked_matrix[variant]
    lines = (project / "Dockerfile").read_text().splitlines()
    instructions = "\n".join(line for line in lines if not line.startswith("#"))
    stages = re.split(r"^FROM ", instructions, flags=re.MULTILINE)[1:]
    names = [stage.split("\n", 1)[0].rsplit(" AS ", 1)[-1] for stage in stages]
    assert names[-1] == "worker" and "local_stack" not in stages[-1]
    assert "local_stack" not in stages[names.index("runtime")]
    assert "COPY local_stack" in stages[names.index("local-stack")]
    services = compose(project)["services"]
    assert services["sync-tasks"]["build"]["target"] == "local-stack"
    assert services["worker"]["build"] == "." and services["worker"]["image"] != services["sync-tasks"]["image"]
