"""The rules a Cadasta configuration keeps, one small function each.

Two kinds. A *value check* looks at one setting and returns what its value
must be, or None; ``Config`` names the setting and the value in front of it,
so a setting takes its check where it is declared (``Setting(default, check)``).
A *rule* looks at the settings together and yields whole problems; ``RULES``
lists them. Every problem is reported at once, each with the value, the rule
and the fix.
"""

import os
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from kombu.utils.imports import symbol_by_name

from . import contract
from .results import BACKEND_PATH as RESULT_BACKEND_PATH
from .sqs import quotas
from .transport import TRANSPORT_PATH
from .transport import Transport as ToolboxTransport

#: How a result_backend URL names Celery's database backend.
CELERY_DATABASE_BACKEND = "db+"
#: Celery reads this environment variable before its configuration (celery.app.utils.Settings).
CELERY_RESULT_BACKEND_VARIABLE = "CELERY_RESULT_BACKEND"

Check = Callable[[Any], str | None]
Settings = Mapping[str, Any]


def is_whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def mask_password(value: Any) -> Any:
    """A URL with its password shown as ***; any other value as it is."""
    if isinstance(value, str) and "://" in value and "@" in value:
        # Greedy up to the last '@': a password may contain '@' itself.
        return re.sub(r"(://[^:/@]*:).*@", r"\1***@", value)
    return value


# -- Value checks ----------------------------------------------------------------
def whole_number(minimum: int, maximum: int | None = None, rule: str = "") -> Check:
    """A check for a whole number from ``minimum`` (to ``maximum``)."""

    def check(value):
        if is_whole_number(value) and value >= minimum and (maximum is None or value <= maximum):
            return None
        if rule:
            return rule
        if maximum is None:
            return f"expected a whole number of at least {minimum}."
        return f"expected a whole number from {minimum} to {maximum}."

    return check


def true_or_false(value: Any) -> str | None:
    return None if isinstance(value, bool) else "expected true or false."


def seconds_above_zero(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return None
    return "expected a number of seconds above 0, like 30."


def prefix_characters(value: Any) -> str | None:
    # Its length is checked with the queue names it starts (queue_name_lengths).
    if isinstance(value, str) and contract.SQS_NAME.match(value):
        return None
    return "use letters, digits, '-' and '_' only (it starts every SQS queue name)."


def the_platform_queue(value: Any) -> str | None:
    # The platform's sync-tasks process consumes this one queue; copies sent anywhere else go untracked.
    if value == contract.PLATFORM_QUEUE:
        return None
    return (
        f"the platform tracks tasks from {contract.PLATFORM_QUEUE!r} only (QUEUE_PREFIX sets the environment); "
        "remove the setting."
    )


def toolbox_transport(value: Any) -> str | None:
    transport = value
    if isinstance(transport, str):
        try:
            transport = symbol_by_name(transport)
        except (ImportError, AttributeError, ValueError):
            transport = None
    if isinstance(transport, type) and issubclass(transport, ToolboxTransport):
        return None
    return (
        f"use the toolbox's SQS transport {TRANSPORT_PATH!r} or a subclass; without it a connection can drop "
        "task messages without a word (see toolbox/sqs/)."
    )


def json_only(value: Any) -> str | None:
    if value == "json":
        return None
    return "the platform reads task messages and results as JSON; keep 'json'."


# -- Rules over several settings -----------------------------------------------------
QUEUE_PROBLEMS = {
    contract.RESERVED: "QUEUES lists {name!r}, which the toolbox adds itself: remove it.",
    contract.NOT_SQS_NAME: "QUEUES lists {name!r}: SQS queue names hold only letters, digits, '-' and '_'.",
    contract.TWICE: "QUEUES lists {name!r} twice: name each queue once.",
}


def service_queues(s: Settings) -> Iterator[str]:
    # Too long is said for every queue, the toolbox's own included, by queue_name_lengths.
    reserved = (s["task_default_queue"], s["PLATFORM_QUEUE_NAME"])
    for kind, name, _ in contract.queue_name_problems(s["QUEUES"], s["QUEUE_NAME_PREFIX"], reserved):
        if kind in QUEUE_PROBLEMS:
            yield QUEUE_PROBLEMS[kind].format(name=name)


def queue_name_lengths(s: Settings) -> Iterator[str]:
    prefix = s["QUEUE_NAME_PREFIX"] if prefix_characters(s["QUEUE_NAME_PREFIX"]) is None else ""
    for queue in s["task_queues"]:
        longest = contract.longest_sqs_name(prefix, queue.name)
        if len(longest) > contract.SQS_NAME_LIMIT:
            yield (
                f"Queue {queue.name!r}: {longest!r} is longer than the {contract.SQS_NAME_LIMIT} "
                "characters SQS allows; shorten the queue name or QUEUE_PREFIX."
            )


def worker_queues_in_queues(s: Settings) -> Iterator[str]:
    consumable = set(s["QUEUES"]) | {s["task_default_queue"]}
    for name in s["WORKER_QUEUES"]:
        if name not in consumable:
            yield (
                f"WORKER_QUEUES lists {name!r}, which is not in QUEUES: add it to QUEUES "
                "(every service queue is) or remove it from WORKER_QUEUES."
            )


def no_celery_database_backend_in_environment(s: Settings) -> Iterator[str]:
    # Celery reads this variable itself, ahead of any configuration: it cannot be given the toolbox's backend.
    given = os.environ.get(CELERY_RESULT_BACKEND_VARIABLE, "")
    if given.startswith(CELERY_DATABASE_BACKEND):
        url = given[len(CELERY_DATABASE_BACKEND) :]
        yield (
            f"{CELERY_RESULT_BACKEND_VARIABLE}={mask_password(given)!r}: Celery would use its own "
            "database backend, which loses a task whose result cannot be stored. Set RESULT_DB_HOST, "
            "RESULT_DB_PORT, RESULT_DB_NAME, RESULT_DB_USER and RESULT_DB_PASS instead, or write it as "
            f"{mask_password(f'{RESULT_BACKEND_PATH}+{url}')!r}."
        )


def long_poll_within_visibility(s: Settings) -> Iterator[str]:
    # Read from the transport options, where a given broker_transport_options may have replaced them.
    options = s["broker_transport_options"]
    visibility = options.get("visibility_timeout")
    wait = options.get("wait_time_seconds", 0)
    if not is_whole_number(wait) or not 0 <= wait <= quotas.MAX_WAIT_TIME_SECONDS:
        yield f"SQS_WAIT_TIME_SECONDS={wait!r}: SQS long polling waits 0 to {quotas.MAX_WAIT_TIME_SECONDS} seconds."
    elif not is_whole_number(visibility) or not wait < visibility <= quotas.MAX_VISIBILITY_TIMEOUT:
        yield (
            f"SQS_VISIBILITY_TIMEOUT={visibility!r}: it must be longer than the long-poll "
            f"wait ({wait} s) and at most {quotas.MAX_VISIBILITY_TIMEOUT} s. The worker renews it while a "
            "task runs; it bounds how long a dead worker's messages stay hidden."
        )


RULES = (
    service_queues,
    queue_name_lengths,
    worker_queues_in_queues,
    no_celery_database_backend_in_environment,
    long_poll_within_visibility,
)
