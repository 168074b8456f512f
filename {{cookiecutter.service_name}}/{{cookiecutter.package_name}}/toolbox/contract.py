"""The platform's contract and SQS's naming rules: each constant and rule once.

``Config``, the transport, the sync-tasks stub and the template's answer check
(hooks/pre_gen_project.py loads this file by its path, before anything is
baked) all read them here. So this module imports nothing but the standard
library, and holds no template markup.
"""

import re
from collections.abc import Iterator

# -- SQS's rules for queue names ------------------------------------------------
#: The longest SQS queue name, ``.fifo`` included.
SQS_NAME_LIMIT = 80
#: What a queue name may hold (apart from the ``.fifo`` suffix). Task names are
#: split on '.', so a queue name with a dot could never be routed to either.
SQS_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
FIFO_SUFFIX = ".fifo"

# -- The platform's queues ----------------------------------------------------
#: The queue the platform's sync-tasks process consumes: a copy of every task.
PLATFORM_QUEUE = "platform.fifo"
#: The routing key that binds a queue to every message: the platform queue's.
CATCH_ALL = "#"
#: Celery's own queue (chord_unlock and other built-in tasks), which every worker declares.
DEFAULT_QUEUE = "celery"
#: Queues the toolbox adds itself: never listed in QUEUES or in a bake's answers.
RESERVED_QUEUES = (DEFAULT_QUEUE, PLATFORM_QUEUE)
#: Joins QUEUE_PREFIX and a queue's name into its SQS name.
PREFIX_SEPARATOR = "-"
#: Every work queue has a dead-letter queue named after it with this suffix.
DEAD_LETTER_SUFFIX = "-dlq"
DEAD_LETTER_SUFFIXES = (DEAD_LETTER_SUFFIX, DEAD_LETTER_SUFFIX + FIFO_SUFFIX)
#: The longest QUEUE_PREFIX: one that still leaves room for the platform queue's name.
LONGEST_PREFIX = SQS_NAME_LIMIT - len(PREFIX_SEPARATOR + PLATFORM_QUEUE)


def queue_list(value: str) -> list[str]:
    """The queue names in a comma-separated answer or variable, in order, blanks dropped."""
    return [name.strip() for name in value.split(",") if name.strip()]


def sqs_name(prefix: str, queue: str) -> str:
    """The SQS name of ``queue`` under ``prefix``."""
    return f"{prefix}{PREFIX_SEPARATOR}{queue}"


def dead_letter_name(queue_name: str) -> str:
    """The SQS name of ``queue_name``'s dead-letter queue: ``<name>-dlq`` (``.fifo`` kept last)."""
    if queue_name.endswith(FIFO_SUFFIX):
        return queue_name[: -len(FIFO_SUFFIX)] + DEAD_LETTER_SUFFIX + FIFO_SUFFIX
    return queue_name + DEAD_LETTER_SUFFIX


def is_dead_letter_name(queue_name: str) -> bool:
    return queue_name.endswith(DEAD_LETTER_SUFFIXES)


def longest_sqs_name(prefix: str, queue: str) -> str:
    """The longest SQS name ``queue`` brings: its dead-letter queue's, the platform queue's own name."""
    name = sqs_name(prefix, queue)
    return name if queue == PLATFORM_QUEUE else dead_letter_name(name)


def is_prefix(prefix: object) -> bool:
    """Whether ``prefix`` can start every SQS queue name of the platform, the platform queue's included."""
    return isinstance(prefix, str) and bool(SQS_NAME.match(prefix)) and len(prefix) <= LONGEST_PREFIX


#: The kinds of problem ``queue_name_problems`` finds; each caller words them for its own audience.
RESERVED, NOT_SQS_NAME, TOO_LONG, TWICE = "reserved", "not an SQS name", "too long", "twice"


def queue_name_problems(
    names: list, prefix: str, reserved: tuple[str, ...] = RESERVED_QUEUES
) -> Iterator[tuple[str, object, str]]:
    """``(kind, name, longest SQS name)`` for every problem with ``names`` as a list of service queues."""
    seen = set()
    for name in names:
        if name in reserved:
            yield RESERVED, name, ""
        elif not isinstance(name, str) or not SQS_NAME.match(name):
            yield NOT_SQS_NAME, name, ""
        elif len(longest := longest_sqs_name(prefix, name)) > SQS_NAME_LIMIT:
            yield TOO_LONG, name, longest
        if name in seen:
            yield TWICE, name, ""
        seen.add(name)
