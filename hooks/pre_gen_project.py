"""Reject answers that would bake a broken worker, before anything is written.

Each message names the answer, the bad value and the rule, so the user can
re-run cookiecutter with a fix. Exiting non-zero makes cookiecutter remove the
half-made project directory.
"""

import keyword
import re
import sys

SERVICE_NAME = {{ cookiecutter.service_name | tojson }}
PACKAGE_NAME = {{ cookiecutter.package_name | tojson }}
QUEUES = {{ cookiecutter.queues | tojson }}
PLATFORM_QUEUES = {{ cookiecutter.platform_queues | tojson }}
QUEUE_PREFIX = {{ cookiecutter.queue_prefix | tojson }}
DESCRIPTION = {{ cookiecutter.description | tojson }}
AUTHOR_NAME = {{ cookiecutter.author_name | tojson }}

PLATFORM_QUEUE = "platform.fifo"
RESERVED_QUEUES = ("celery", PLATFORM_QUEUE)
# SQS: at most 80 characters, only letters, digits, hyphens and underscores
# (plus the ".fifo" suffix, which only the platform queue uses).
SQS_NAME_LIMIT = 80
# Every work queue has a dead-letter queue named after it.
DEAD_LETTER_SUFFIX = "-dlq"
SQS_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
SERVICE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*$")
# A package with one of these names would shadow a module the worker imports.
#: What pyproject.toml's quoted strings would need escaped, which the template writes as they are.
QUOTING = {'"', "\\"}
SHADOWED = {"celery", "kombu", "boto3", "botocore", "sqlalchemy", "psycopg2", "tests", "toolbox", "local_stack", "benchmarks"}


def split(answer):
    return [name.strip() for name in answer.split(",") if name.strip()]


def problems():
    if not SERVICE.match(SERVICE_NAME):
        yield (
            f"service_name {SERVICE_NAME!r} is not a legal repository name: use lowercase "
            "letters and digits in words joined by single hyphens, starting with a letter "
            "(e.g. 'export-worker')."
        )
    if not PACKAGE.match(PACKAGE_NAME) or keyword.iskeyword(PACKAGE_NAME):
        yield (
            f"package_name {PACKAGE_NAME!r} is not a legal Python package name: use lowercase "
            "letters, digits and underscores, not starting with a digit and not a Python "
            "keyword (e.g. 'export_worker')."
        )
    elif PACKAGE_NAME in SHADOWED or PACKAGE_NAME in sys.stdlib_module_names:
        yield (
            f"package_name {PACKAGE_NAME!r} would shadow the module of the same name that the "
            "worker imports: choose another name (e.g. 'export_worker')."
        )

    longest_prefix = SQS_NAME_LIMIT - len("-" + PLATFORM_QUEUE)
    if not SQS_NAME.match(QUEUE_PREFIX) or len(QUEUE_PREFIX) > longest_prefix:
        yield (
            f"queue_prefix {QUEUE_PREFIX!r} is not usable in SQS queue names: use 1 to "
            f"{longest_prefix} letters, digits, hyphens or underscores (e.g. 'dev')."
        )

    own = split(QUEUES)
    if not own:
        yield "queues is empty: name at least one queue this worker consumes (e.g. 'export')."
    for answer, names in (("queues", own), ("platform_queues", split(PLATFORM_QUEUES))):
        yield from queue_problems(answer, names)
    for answer, text in (("description", DESCRIPTION), ("author_name", AUTHOR_NAME)):
        if not text.strip() or any(character in QUOTING for character in text) or not text.isprintable():
            yield (
                f"{answer} {text!r} cannot go into pyproject.toml as it is: use one line of printable text "
                'without double quotes or backslashes (single quotes are fine).'
            )


def queue_problems(answer, names):
    seen = set()
    for name in names:
        full_name = f"{QUEUE_PREFIX}-{name}{DEAD_LETTER_SUFFIX}"  # the longest name the queue brings
        if name in RESERVED_QUEUES:
            yield (
                f"{answer} lists {name!r}, which is reserved: the toolbox adds 'celery' and "
                f"{PLATFORM_QUEUE!r} itself. Remove it from {answer}."
            )
        elif not SQS_NAME.match(name):
            yield (
                f"{answer} lists {name!r}, which SQS would refuse: queue names may hold only "
                "letters, digits, hyphens and underscores."
            )
        elif len(full_name) > SQS_NAME_LIMIT:
            yield (
                f"{answer} lists {name!r}: with the prefix, its dead-letter queue is {full_name!r}, "
                f"{len(full_name)} characters, and SQS allows at most {SQS_NAME_LIMIT}. "
                "Shorten the queue name or the prefix."
            )
        if name in seen:
            yield f"{answer} lists {name!r} twice: name each queue once."
        seen.add(name)


def main():
    found = list(problems())
    for problem in found:
        print(f"ERROR: {problem}", file=sys.stderr)
    if found:
        print("Nothing was written. Run cookiecutter again with these answers fixed.", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
