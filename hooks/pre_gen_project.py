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
#: The template, whose local_extensions loads the baked toolbox's contract module: the queue rules checked
#: here are the worker's own (its Config keeps the same).
TEMPLATE_DIR = {{ cookiecutter | template_dir | tojson }}

SERVICE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*$")
#: What pyproject.toml's quoted strings would need escaped, which the template writes as they are.
QUOTING = {'"', "\\"}
# A package with one of these names would shadow a module the worker imports.
SHADOWED = {"celery", "kombu", "boto3", "botocore", "sqlalchemy", "psycopg2", "tests", "toolbox", "local_stack", "benchmarks"}

sys.path.insert(0, TEMPLATE_DIR)
from local_extensions import contract  # noqa: E402  (found through the line above)

#: How this hook words each kind of problem contract.queue_name_problems finds.
QUEUE_PROBLEMS = {
    contract.RESERVED: (
        "{answer} lists {name!r}, which is reserved: the toolbox adds 'celery' and {platform!r} itself. "
        "Remove it from {answer}."
    ),
    contract.NOT_SQS_NAME: (
        "{answer} lists {name!r}, which SQS would refuse: queue names may hold only "
        "letters, digits, hyphens and underscores."
    ),
    contract.TOO_LONG: (
        "{answer} lists {name!r}: with the prefix, its dead-letter queue is {longest!r}, "
        "{length} characters, and SQS allows at most {limit}. Shorten the queue name or the prefix."
    ),
    contract.TWICE: "{answer} lists {name!r} twice: name each queue once.",
}


def derived_from_a_bad_service_name(answer, derived):
    """Whether ``answer`` is only the default made from service_name, which is wrong itself: one mistake,
    said once, under service_name."""
    return not SERVICE.match(SERVICE_NAME) and answer == derived


def problems():
    if not SERVICE.match(SERVICE_NAME):
        yield (
            f"service_name {SERVICE_NAME!r} is not a legal repository name: use lowercase "
            "letters and digits in words joined by single hyphens, starting with a letter "
            "(e.g. 'export-worker')."
        )
    if derived_from_a_bad_service_name(PACKAGE_NAME, SERVICE_NAME.replace("-", "_")):
        pass
    elif not PACKAGE.match(PACKAGE_NAME) or keyword.iskeyword(PACKAGE_NAME):
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

    if not contract.is_prefix(QUEUE_PREFIX):
        yield (
            f"queue_prefix {QUEUE_PREFIX!r} is not usable in SQS queue names: use 1 to "
            f"{contract.LONGEST_PREFIX} letters, digits, hyphens or underscores (e.g. 'dev')."
        )

    own = contract.queue_list(QUEUES)
    if not own:
        yield "queues is empty: name at least one queue this worker consumes (e.g. 'export')."
    if derived_from_a_bad_service_name(QUEUES, SERVICE_NAME.replace("-worker", "")):
        own = []
    for answer, names in (("queues", own), ("platform_queues", contract.queue_list(PLATFORM_QUEUES))):
        for kind, name, longest in contract.queue_name_problems(names, QUEUE_PREFIX):
            yield QUEUE_PROBLEMS[kind].format(
                answer=answer,
                name=name,
                longest=longest,
                length=len(longest),
                limit=contract.SQS_NAME_LIMIT,
                platform=contract.PLATFORM_QUEUE,
            )
    for answer, text in (("description", DESCRIPTION), ("author_name", AUTHOR_NAME)):
        if not text.strip() or any(character in QUOTING for character in text) or not text.isprintable():
            yield (
                f"{answer} {text!r} cannot go into pyproject.toml as it is: use one line of printable text "
                'without double quotes or backslashes (single quotes are fine).'
            )


def main():
    found = list(problems())
    for problem in found:
        print(f"ERROR: {problem}", file=sys.stderr)
    if found:
        print("Nothing was written. Run cookiecutter again with these answers fixed.", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
