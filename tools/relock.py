"""Refresh the uv.lock every baked project starts with, after a change to the template's pyproject.toml.

    .venv/bin/python tools/relock.py     # from the template's root, with ./run-tests's environment

Bakes the default answers into a scratch folder, runs `uv lock` there (with the
oldest Python the template offers, so the lock holds for every choice), and
writes the lock back into the template with the two lines that depend on the
answers (the project's name and its requires-python) as template expressions.
tests/test_lock.py checks every bake of the matrix against it.
"""

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
LOCK = TEMPLATE / "{{cookiecutter.service_name}}" / "uv.lock"


def templated(lock, service_name, python_version):
    """The lock with the answers' two lines turned back into template expressions."""
    name = f'name = "{service_name}"\n'
    if lock.count(name) != 1:
        raise SystemExit(f"Expected the project's own entry ({name.strip()}) once in the lock.")
    lock = lock.replace(name, 'name = "{{ cookiecutter.service_name }}"\n')
    lock, found = re.subn(
        rf'^requires-python = ">={re.escape(python_version)}"$',
        'requires-python = ">={{ cookiecutter.python_version }}"',
        lock,
        count=1,
        flags=re.MULTILINE,
    )
    if not found:
        raise SystemExit(f"Expected requires-python >={python_version} in the lock.")
    return lock


def main():
    answers = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    oldest = answers["python_version"][0]
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=scratch))
        subprocess.run([sys.executable, "-m", "uv", "lock", "--python", oldest], cwd=project, check=True)
        lock = (project / "uv.lock").read_text()
    LOCK.write_text(templated(lock, answers["service_name"], oldest))
    print(f"Wrote {LOCK.relative_to(TEMPLATE)}")


if __name__ == "__main__":
    main()
