"""The Cadasta configuration of a Celery app: what every worker must share.

Precedence for every setting: keyword argument, then environment variable, then
the default (a class attribute, so a worker's own subclass can change it).
Uppercase names are the toolbox's own variables, read from the environment
variable of the same name unless their ``Setting`` names another. Lowercase names are Celery settings, read from
``CELERY_<NAME>``. A value read from the environment is parsed as a Python
literal whenever the default is not a string.

Settings left as ``None`` here are derived from the variables, so changing
``QUEUE_PREFIX`` or ``RESULT_DB_HOST`` is enough; give the setting itself to
replace the derivation.

A setting is declared once, as a class attribute: a plain default, or a
``Setting`` with the check its value must pass (``rules.py`` holds the checks
and the rules over several settings). Problems are raised together as
``ConfigError`` when the object is built, which is when
the worker imports its app: a bad setting stops start-up, not the first task.
"""

import ast
import os
from collections.abc import Mapping
from typing import Any

from celery.app.defaults import DEFAULTS as CELERY_SETTINGS
from kombu import Exchange, Queue
from sqlalchemy.engine import URL

from . import contract, rules
from .errors import ConfigError
from .results import BACKEND_PATH as RESULT_BACKEND_PATH
from .routing import TaskRouter
from .rules import CELERY_DATABASE_BACKEND, mask_password
from .sqs import quotas
from .sqs.queues import DEAD_LETTER_OPTION, OWNED_OPTION, PROVISIONED_OPTION
from .sqs.topology import TOPOLOGY_OPTION, topology
from .transport import TRANSPORT_PATH

#: Seconds to connect to SQS before a call gives up (and botocore tries again, three times in all).
SQS_CONNECT_TIMEOUT = 5
BOOLEAN_WORDS = {
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}
#: Settings that hold Python objects: only a keyword argument sets them.
NOT_FROM_ENVIRONMENT = {"task_queues", "task_routes"}
#: Derived settings (default None) that the environment gives as a Python literal, like this.
LITERAL_FROM_ENVIRONMENT = {"broker_transport_options": {}}

__all__ = ["Config", "ConfigError", "Setting"]


class Setting:
    """A setting's default, with what else it needs: the check its value must pass, and the environment
    variable it is read from when that is not its own name. Reading it from the class gives the default."""

    def __init__(self, default: Any, check: rules.Check | None = None, environment: str | None = None):
        self.default, self.check, self.environment = default, check, environment

    def __get__(self, instance: Any, owner: type) -> Any:
        return self.default


class Config(Mapping):
    # -- The toolbox's own variables ---------------------------------------
    #: Every service queue on the platform, so follow-up tasks can be routed
    #: anywhere. 'celery' and the platform queue are added automatically.
    QUEUES = []
    #: The queues this worker consumes when started without ``-Q``.
    WORKER_QUEUES = []
    PLATFORM_QUEUE_NAME = Setting(contract.PLATFORM_QUEUE, rules.the_platform_queue)
    #: Prefix of every SQS queue name, joined with '-'. Environment: QUEUE_PREFIX.
    QUEUE_NAME_PREFIX = Setting("dev", rules.prefix_characters, environment="QUEUE_PREFIX")
    AWS_REGION = "us-west-2"
    RESULT_DB_USER = "cadasta"
    RESULT_DB_PASS = "cadasta"
    RESULT_DB_HOST = "localhost"
    RESULT_DB_PORT = Setting(5432, rules.whole_number(0))
    RESULT_DB_NAME = "cadasta"
    #: celery.chord_unlock retries forever by default (celery/celery#2725);
    #: 43200 retries of 1 second is six hours.
    CHORD_UNLOCK_MAX_RETRIES = Setting(43200, rules.whole_number(0))
    #: Seconds a received message stays hidden from other workers. The worker
    #: renews it every third of this while it holds the message (running,
    #: reserved or waiting for its ETA), so it bounds how long the messages of
    #: a worker that died stay hidden, not how long a task may run.
    SQS_VISIBILITY_TIMEOUT = 60
    #: Receives after which SQS moves a message no worker acknowledged to the
    #: queue's dead-letter queue (<queue>-dlq).
    SQS_MAX_RECEIVE_COUNT = Setting(
        5,
        rules.whole_number(
            1, quotas.MAX_RECEIVE_COUNT, rule=f"SQS takes a whole number from 1 to {quotas.MAX_RECEIVE_COUNT}."
        ),
    )
    #: Long polling: seconds one receive call waits for a message (SQS max 20).
    SQS_WAIT_TIME_SECONDS = 20
    #: True where the queues are provisioned (a CloudFormation stack, say): then
    #: nothing creates or changes a queue, and a missing one stops start-up
    #: with its name. False (local stacks): the worker creates its own queues,
    #: with their dead-letter queues, and any other it finds missing, plain.
    QUEUES_PROVISIONED = Setting(False, rules.true_or_false)
    #: Seconds a starting worker (or ``setup_app``) keeps trying to reach SQS
    #: before it gives up with one line naming the endpoint and region.
    STARTUP_TIMEOUT = Setting(30, rules.seconds_above_zero)

    # -- Celery settings ---------------------------------------------------
    #: None means real SQS with the standard AWS credential chain; for
    #: LocalStack: sqs://test:test@localhost:4566
    broker_url = None
    #: kombu's SQS transport, with the topic exchange on every connection (toolbox/sqs/).
    broker_transport = Setting(TRANSPORT_PATH, rules.toolbox_transport)
    broker_transport_options = None
    broker_connection_retry_on_startup = True
    #: None: the toolbox's database backend (results.py) with the RESULT_DB_* variables. A
    #: ``db+<SQLAlchemy URL>`` given here gets the toolbox's backend too; in CELERY_RESULT_BACKEND
    #: it is refused, as Celery would read it past this configuration.
    result_backend = None
    #: The platform owns the schema; a worker's role may not create tables.
    database_create_tables_at_setup = False
    # No ping before each write (Celery's default): it is a round trip per state
    # stored, two per task. A connection the database dropped fails its write
    # instead; Celery's backend then drops its engine and writes again
    # (result_backend_always_retry, on by default for this backend).
    database_engine_options = {"pool_pre_ping": False, "pool_recycle": 3600}
    task_default_queue = contract.DEFAULT_QUEUE
    task_default_routing_key = contract.DEFAULT_QUEUE
    task_default_exchange = "task_exchange"
    task_default_exchange_type = "topic"
    task_queues = None
    task_routes = None
    task_track_started = True
    #: The platform reads results as JSON, so no other serializer will do.
    task_serializer = Setting("json", rules.json_only)
    result_serializer = Setting("json", rules.json_only)
    # Errbacks linked to a chord go on its body only, not on each header task.
    # A failing header member still reaches them: the chord fails, and Celery
    # calls the body's errbacks once, with the body's id. With True they would
    # run once per failing member and once more for the chord. Celery plans to
    # flip this default (it warns on every chord.link_error);
    # hand_over_callbacks links to the body itself, so it never warns, and
    # tests/e2e/test_canvas.py pins the behaviour for the next Celery update.
    task_allow_error_cb_on_chord_header = False
    #: Logs and keeps (dead-letters) what it cannot read instead of dying on it.
    worker_consumer = f"{__package__}.consumer:Consumer"
    # At-least-once delivery: acknowledge after the task has run, and give the
    # message back when the process running it dies; fetch one at a time so a
    # busy process does not sit on messages another could run.
    task_acks_late = True
    task_reject_on_worker_lost = True
    worker_prefetch_multiplier = 1

    def __init__(self, **overrides):
        self._declared = self.declared()
        defaults = {name: setting.default for name, setting in self._declared.items()}
        self._check_names(overrides, defaults)
        settings = {name: self._resolve(name, default, overrides) for name, default in defaults.items()}
        settings.update((k, v) for k, v in overrides.items() if k not in settings)
        self._settings = settings
        self._derive()
        self._validate()
        self.__dict__.update(self._settings)

    @staticmethod
    def _check_names(overrides, defaults):
        unknown = sorted(
            name
            for name in overrides
            if not (name.isupper() and name in defaults)
            and not (name.islower() and (name in defaults or name in CELERY_SETTINGS))
        )
        if unknown:
            raise ConfigError(
                f"Unknown setting(s) {', '.join(unknown)}: lowercase names are Celery's settings, uppercase "
                f"ones the toolbox's ({', '.join(sorted(k for k in defaults if k.isupper()))})."
            )

    @classmethod
    def declared(cls) -> dict[str, Setting]:
        """Every setting this class provides, by name, as its nearest ``Setting``: a subclass that gives
        only a new default, or a ``Setting`` without a check or a variable, keeps those of the one it overrides."""
        found: dict[str, Setting] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if name.startswith("_") or not (name.isupper() or name.islower()):
                    continue
                if not isinstance(value, Setting):
                    if callable(value) or isinstance(value, (classmethod, staticmethod, property)):
                        continue
                    value = Setting(value)
                inherited = found.get(name)
                found[name] = Setting(
                    value.default,
                    value.check or (inherited and inherited.check),
                    value.environment or (inherited and inherited.environment),
                )
        return found

    @classmethod
    def defaults(cls):
        """Every setting this class provides, with its default, by name."""
        return {name: setting.default for name, setting in cls.declared().items()}

    @classmethod
    def environment_name(cls, name, declared=None):
        """The environment variable setting ``name`` is read from."""
        if name.isupper():
            return (declared or cls.declared())[name].environment or name
        return "CELERY_" + name.upper()

    def _resolve(self, name, default, overrides):
        if name in overrides:
            return overrides[name]
        if name in NOT_FROM_ENVIRONMENT:
            return default
        env_name = self.environment_name(name, self._declared)
        if env_name not in os.environ:
            return default
        return parse_environment_value(env_name, os.environ[env_name], LITERAL_FROM_ENVIRONMENT.get(name, default))

    def _derive(self):
        s = self._settings
        for name in ("QUEUES", "WORKER_QUEUES"):
            s[name] = queue_list(name, s[name])
        s["result_backend"] = self._result_backend(s)
        exchange = Exchange(s["task_default_exchange"], type=s["task_default_exchange_type"])
        if s["task_queues"] is None:
            s["task_queues"] = [
                Queue(s["task_default_queue"], exchange, routing_key=s["task_default_routing_key"]),
                Queue(s["PLATFORM_QUEUE_NAME"], exchange, routing_key=contract.CATCH_ALL),
            ] + [Queue(name, exchange, routing_key=name) for name in s["QUEUES"]]
        if s["task_routes"] is None:
            s["task_routes"] = (TaskRouter(exchange, s["task_queues"]),)
        given = s["broker_transport_options"] or {}
        if not isinstance(given, dict):
            raise ConfigError(f"broker_transport_options={given!r}: expected a dict of kombu SQS transport options.")
        # Options given are laid over the derived ones, not instead of them.
        s["broker_transport_options"] = {
            "region": s["AWS_REGION"],
            "queue_name_prefix": s["QUEUE_NAME_PREFIX"] + contract.PREFIX_SEPARATOR,
            "visibility_timeout": s["SQS_VISIBILITY_TIMEOUT"],
            "wait_time_seconds": s["SQS_WAIT_TIME_SECONDS"],
            # botocore waits 60 s to connect, and retries: an unreachable SQS would hold a call for minutes.
            "client-config": {
                "connect_timeout": SQS_CONNECT_TIMEOUT,
                "read_timeout": s["SQS_WAIT_TIME_SECONDS"] + SQS_CONNECT_TIMEOUT,
                "retries": {"mode": "standard", "total_max_attempts": 3},
            },
            TOPOLOGY_OPTION: topology(exchange, s["task_queues"]),
            DEAD_LETTER_OPTION: {"max_receive_count": s["SQS_MAX_RECEIVE_COUNT"]},
            OWNED_OPTION: list(s["WORKER_QUEUES"]),
            PROVISIONED_OPTION: s["QUEUES_PROVISIONED"],
            **given,
        }

    @staticmethod
    def _result_backend(s):
        """The toolbox's database backend for the RESULT_DB_* variables, or for a ``db+`` URL given: the same
        as Celery's, but a task whose result cannot be stored runs again (results.py)."""
        backend = s["result_backend"]
        if backend is None:
            url = URL.create(
                "postgresql+psycopg2",  # SQLAlchemy 2.1 would pick psycopg 3 otherwise
                username=s["RESULT_DB_USER"],
                password=s["RESULT_DB_PASS"],
                host=s["RESULT_DB_HOST"],
                port=s["RESULT_DB_PORT"],
                database=s["RESULT_DB_NAME"],
            )
            backend = CELERY_DATABASE_BACKEND + url.render_as_string(hide_password=False)
        if isinstance(backend, str) and backend.startswith(CELERY_DATABASE_BACKEND):
            return f"{RESULT_BACKEND_PATH}+{backend[len(CELERY_DATABASE_BACKEND) :]}"
        return backend

    def _validate(self):
        problems = list(self._problems())
        if problems:
            raise ConfigError("Invalid Cadasta worker configuration:\n  - " + "\n  - ".join(problems))

    def _problems(self):
        s = self._settings
        for name, setting in self._declared.items():
            problem = setting.check and setting.check(s[name])
            if problem:
                shown = self.environment_name(name, self._declared) if name.isupper() else name
                yield f"{shown}={mask_password(s[name])!r}: {problem}"
        for rule in rules.RULES:
            yield from rule(s)

    # -- Mapping: Celery's config_from_object reads every key ---------------
    def __getitem__(self, name):
        return self._settings[name]

    def __iter__(self):
        return iter(self._settings)

    def __len__(self):
        return len(self._settings)

    def __repr__(self):
        shown = ", ".join(
            f"{name}={mask_password(value)!r}" for name, value in sorted(self._settings.items()) if name.islower()
        )
        return f"{type(self).__name__}({shown})"


def parse_environment_value(env_name, raw, default):
    """Read an environment variable as the type of its default."""
    if default is None or isinstance(default, str):
        return raw
    if isinstance(default, bool) and raw.strip().lower() in BOOLEAN_WORDS:
        return BOOLEAN_WORDS[raw.strip().lower()]
    expected = type(default)
    if isinstance(default, (list, tuple)) and not raw.strip().startswith(("[", "(")):
        return queue_list(env_name, raw)
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        raise ConfigError(
            f"{env_name}={raw!r} is not a valid Python literal; expected {expected.__name__} "
            f"like {default!r}." + (" A comma-separated list works too." if isinstance(default, (list, tuple)) else "")
        ) from None
    if isinstance(default, (list, tuple)) and isinstance(value, (list, tuple)):
        return list(value)
    if type(value) is not expected:
        raise ConfigError(
            f"{env_name}={raw!r} is {type(value).__name__}; expected {expected.__name__} like {default!r}."
        )
    return value


def queue_list(name, value):
    """A list of names from a list, a tuple or a comma-separated string."""
    if isinstance(value, str):
        return contract.queue_list(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ConfigError(f"{name}={value!r}: expected a list of queue names, like ['export', 'import'] or 'a,b'.")
