"""Every bake starts with a uv.lock that uv itself accepts for its pyproject.toml, and refuses once they differ."""

import glob
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import run
from tests.matrix import MATRIX


def python(version):
    """An interpreter of ``version`` (uv checks a lock against the project's Python), or None."""
    candidates = [shutil.which(f"python{version}"), *sorted(glob.glob(f"/root/.pyenv/versions/{version}*/bin/python3"))]
    for candidate in filter(None, candidates):
        found = subprocess.run([candidate, "--version"], capture_output=True, text=True)
        if found.returncode == 0 and found.stdout.split()[-1].startswith(f"{version}."):
            return candidate
    return None


def uv_lock_check(project):
    version = re.search(r'requires-python = ">=([\d.]+)"', (project / "pyproject.toml").read_text()).group(1)
    interpreter = python(version)
    if interpreter is None:
        pytest.skip(f"no Python {version} on this machine to check the lock with")
    return run([sys.executable, "-m", "uv", "lock", "--check", "--offline", "--python", interpreter], cwd=project)


@pytest.mark.parametrize("variant", MATRIX)
def test_uv_accepts_the_baked_lock(baked_matrix, variant):
    checked = uv_lock_check(baked_matrix[variant])
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_uv_refuses_the_lock_once_a_pin_changes(baked_matrix, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(baked_matrix["defaults"], project)
    pyproject = project / "pyproject.toml"
    changed, found = re.subn(r'"ruff==[\d.]+"', '"ruff==0.0.1"', pyproject.read_text())
    assert found == 1
    pyproject.write_text(changed)
    assert uv_lock_check(project).returncode != 0
