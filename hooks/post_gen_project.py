"""Record where the project came from, for template updates, and tell the user what to do next."""

import json
from pathlib import Path

PACKAGE_NAME = {{ cookiecutter.package_name | tojson }}
SERVICE_NAME = {{ cookiecutter.service_name | tojson }}
PYTHON_VERSION = {{ cookiecutter.python_version | tojson }}
# JSON text in a Python string: the answers hold JSON values (null), which are not Python literals.
CONTEXT = json.loads({{ cookiecutter | tojson | tojson }})
SOURCE = json.loads({{ cookiecutter | template_source | tojson | tojson }})


def record_template():
    """.cruft.json, as `cruft create` writes it, so `cruft check` and `cruft update` work on a plain
    cookiecutter bake. Under cruft itself (its renders carry _commit) cruft writes the file."""
    if "_commit" in CONTEXT:
        return
    if SOURCE["commit"] is None:
        print(f"Note: {SOURCE['template']} is not a git checkout, so no .cruft.json was written: link the")
        print("project to the template's repository later with `cruft link <its URL>` to take updates.")
        return
    answers = {name: value for name, value in CONTEXT.items() if not name.startswith("_")}
    state = {
        "template": SOURCE["template"],
        "commit": SOURCE["commit"],
        "checkout": CONTEXT.get("_checkout"),
        "context": {"cookiecutter": {**answers, "_template": SOURCE["template"], "_commit": SOURCE["commit"]}},
        "directory": None,
    }
    Path(".cruft.json").write_text(json.dumps(state, indent=2) + "\n")
    template = SOURCE["template"]
    if "://" not in template and not template.startswith("git@"):
        print(f"Note: .cruft.json records the template at {template}, a path on this machine: CI's template check")
        print("and anyone else cannot reach it. Bake from gh:cadasta/worker-template, or set \"template\" in")
        print(".cruft.json to https://github.com/cadasta/worker-template.git once this commit is published there.")


record_template()
print(
    f"""
Baked {SERVICE_NAME}. Next steps:

    cd {SERVICE_NAME}
    docker compose up --wait --build   # LocalStack SQS, Postgres, sync-tasks and the worker

    python{PYTHON_VERSION} -m venv .venv && . .venv/bin/activate
    make install                # exactly uv.lock, into the virtual environment
    make test                   # unit and conformance tests, offline
    make stack                  # the same stack without Docker, on this machine, until Ctrl-C
    make e2e                    # the whole stack end to end, on this machine (E2E_STACK=compose: against compose)

Then read README.md: the worker's code lives in {PACKAGE_NAME}/tasks.py and
{PACKAGE_NAME}/services.py; {PACKAGE_NAME}/toolbox/ keeps it Cadasta-conformant.
"""
)
