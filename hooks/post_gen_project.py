"""Tell the user what to do next, in the words of the generated README."""

PACKAGE_NAME = {{ cookiecutter.package_name | tojson }}
SERVICE_NAME = {{ cookiecutter.service_name | tojson }}

print(
    f"""
Baked {SERVICE_NAME}. Next steps:

    cd {SERVICE_NAME}
    docker compose up --wait --build   # LocalStack SQS, Postgres, sync-tasks and the worker

    python -m venv .venv && . .venv/bin/activate
    make install                # pip install -e '.[test]'
    make test                   # unit and conformance tests, offline
    make e2e                    # the whole stack end to end, on this machine (E2E_STACK=compose: against compose)

Then read README.md: the worker's code lives in {PACKAGE_NAME}/tasks.py and
{PACKAGE_NAME}/services.py; {PACKAGE_NAME}/toolbox/ keeps it Cadasta-conformant.
"""
)
