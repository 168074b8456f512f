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
