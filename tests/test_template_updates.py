"""A repository baked earlier takes the template's later changes: .cruft.json, `cruft check`, `cruft update`."""

import json
import shutil
import subprocess

from cookiecutter.main import cookiecutter

from tests.conftest import BIN, TEMPLATE, run

GIT_IDENTITY = ["-c", "user.name=Template test", "-c", "user.email=template-test@example.invalid"]
ADDED_SECTION = "\n## Added to the template after the bake\n"


def git(repository, *arguments):
    result = run(["git", *GIT_IDENTITY, *arguments], cwd=repository)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def template_repository(destination):
    """The template as it is in this working tree, committed into a repository of its own."""
    listed = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=TEMPLATE)
    for name in filter(None, listed.stdout.split("\0")):
        if (TEMPLATE / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE / name, destination / name)
    git(destination, "init", "--quiet", "--initial-branch=main")
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "--message", "The template")
    return git(destination, "rev-parse", "HEAD")


def cruft(*arguments, cwd):
    return subprocess.run([BIN / "cruft", *arguments], cwd=cwd, capture_output=True, text=True)


def test_a_baked_repository_takes_a_later_template_change_with_cruft_update(tmp_path):
    template = tmp_path / "template"
    template.mkdir()
    first = template_repository(template)
    project = cookiecutter(str(template), no_input=True, output_dir=str(tmp_path / "baked"))
    state = json.loads((tmp_path / "baked" / "example-worker" / ".cruft.json").read_text())
    assert (state["template"], state["commit"]) == (str(template), first)
    assert state["context"]["cookiecutter"]["service_name"] == "example-worker"
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "Baked")
    assert cruft("check", cwd=project).returncode == 0

    readme = template / "{{cookiecutter.service_name}}" / "README.md"
    readme.write_text(readme.read_text() + ADDED_SECTION)
    git(template, "commit", "--quiet", "--all", "--message", "A change to the template")
    second = git(template, "rev-parse", "HEAD")
    behind = cruft("check", cwd=project)
    assert behind.returncode != 0, behind.stdout

    updated = cruft("update", "--skip-apply-ask", cwd=project)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert (tmp_path / "baked" / "example-worker" / "README.md").read_text().endswith(ADDED_SECTION)
    assert json.loads((tmp_path / "baked" / "example-worker" / ".cruft.json").read_text())["commit"] == second
    changed = git(project, "status", "--porcelain")
    assert sorted(line.split()[-1] for line in changed.splitlines()) == [".cruft.json", "README.md"], changed
    assert cruft("check", cwd=project).returncode == 0


def test_a_template_recorded_by_a_path_not_here_is_named_with_the_fix(baked_matrix, worker_environment, tmp_path):
    """As on CI, where the path of the machine that baked the repository does not exist."""
    project = tmp_path / "project"
    shutil.copytree(baked_matrix["defaults"], project)
    state = json.loads((project / ".cruft.json").read_text())
    state["template"] = "/home/someone/worker-template"
    (project / ".cruft.json").write_text(json.dumps(state))
    result = run(["make", "template-check"], cwd=project, env=worker_environment)
    said = result.stdout + result.stderr
    assert result.returncode != 0 and "records the template at /home/someone/worker-template" in said, said
    assert "https://github.com/cadasta/worker-template.git" in said and "Traceback" not in said


def test_a_bake_from_a_local_checkout_says_how_to_record_the_public_template(tmp_path):
    result = run([BIN / "cookiecutter", TEMPLATE, "--no-input", "-o", tmp_path], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"records the template at {TEMPLATE}, a path on this machine" in result.stdout
