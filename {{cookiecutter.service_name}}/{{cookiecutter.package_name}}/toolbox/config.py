"""The Cadasta configuration of a Celery app: what every worker must share.

Precedence for every setting: keyword argument, then environment variable, then
the default (a class attribute, so a worker's own subclass can change it).
Uppercase names are the toolbox's own variables, read from the environment
variable of the same name. Lowercase names are Celery settings, read from
``CELERY_<NAME>``. A value read from the environment is parsed as a Python
literal whenever the default is not a string.

Settings left as ``None`` here are derived from the variables, so changing
``QUEUE_PREFIX`` or ``RESULT_DB_HOST`` is enough; give the setting itself to
replace the derivation.

Problems are raised as ``ConfigError`` when the object is built, which is when
the worker imports its app: a bad setting stops start-up, not the first task.
"""

import ast
import os
import re
from collections.abc import Mapping

from celery.app.defaults import DEFAULTS as CELERY_SETTINGS
from kombu import Exchange, Queue
from kombu.utils.imports import symbol_by_name
from sqlalchemy.engine import URL

from .results import BACKEND_PATH as RESULT_BACKEND_PATH
from .routing import TaskRouter
from .transport import DEAD_LETTER_OPTION, TOPOLOGY_OPTION, TRANSPORT_PATH, dead_letter_name, topology
from .transport import Transport as ToolboxTransport

# SQS queue names: at most 80 characters of letters, digits, '-' and '_'
# (the ".fifo" suffix aside). Task names are split on '.', so a queue name
# with a dot could never be routed to.
SQS_NAME_LIMIT = 80
SQS_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
SQS_MAX_VISIBILITY_TIMEOUT = 43200
#: The queue the platform's sync-tasks process consumes: a copy of every task.
PLATFORM_QUEUE = "platform.fifo"
SQS_MAX_WAIT_TIME_SECONDS = 20
#: Seconds to connect to SQS before a call gives up (and botocore tries again, three times in all).
SQS_CONNECT_TIMEOUT = 5
SQS_MAX_RECEIVE_COUNT = 1000
#: How a result_backend URL names Celery's database backend.
CELERY_DATABASE_BACKEND = "db+"
#: Celery reads this environment variable before its configuration (celery.app.utils.Settings).
CELERY_RESULT_BACKEND_VARIABLE = "CELERY_RESULT_BACKEND"
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


#: Variables whose environment variable has another name.
ENVIRONMENT_NAMES = {"QUEUE_NAME_PREFIX": "QUEUE_PREFIX"}
#: Settings that hold Python objects: only a keyword argument sets them.
NOT_FROM_ENVIRONMENT = {"task_queues", "task_routes"}
#: Derived settings (default None) that the environment gives as a Python literal, like this.
LITERAL_FROM_ENVIRONMENT = {"broker_transport_options": {}}


class ConfigError(ValueError):
    """A setting that would make the worker break the Cadasta contract."""


class Config(Mapping):
    # -- The toolbox's own variables ---------------------------------------
    #: Every service queue on the platform, so follow-up tasks can be routed
    #: anywhere. 'celery' and the platform queue are added automatically.
    QUEUES = []
    #: The queues this worker consumes when started without ``-Q``.
    WORKER_QUEUES = []
    PLATFORM_QUEUE_NAME = PLATFORM_QUEUE
    #: Prefix of every SQS queue name, joined with '-'. Environment: QUEUE_PREFIX.
    QUEUE_NAME_PREFIX = "dev"
    AWS_REGION = "us-west-2"
    RESULT_DB_USER = "cadasta"
    RESULT_DB_PASS = "cadasta"
    RESULT_DB_HOST = "localhost"
    RESULT_DB_PORT = 5432
    RESULT_DB_NAME = "cadasta"
    #: celery.chord_unlock retries forever by default (celery/celery#2725);
    #: 43200 retries of 1 second is six hours.
    CHORD_UNLOCK_MAX_RETRIES = 43200
    #: Seconds a received message stays hidden from other workers. The worker
    #: renews it every third of this while it holds the message (running,
    #: reserved or waiting for its ETA), so it bounds how long the messages of
    #: a worker that died stay hidden, not how long a task may run.
    SQS_VISIBILITY_TIMEOUT = 60
    #: Receives after which SQS moves a message no worker acknowledged to the
    #: queue's dead-letter queue (<queue>-dlq).
    SQS_MAX_RECEIVE_COUNT = 5
    #: Long polling: seconds one receive call waits for a message (SQS max 20).
    SQS_WAIT_TIME_SECONDS = 20
    #: Seconds a starting worker (or ``setup_app``) keeps trying to reach SQS
    #: before it gives up with one line naming the endpoint and region.
    STARTUP_TIMEOUT = 30

    # -- Celery settings ---------------------------------------------------
    #: None means real SQS with the standard AWS credential chain; for
    #: LocalStack: sqs://test:test@localhost:4566
    broker_url = None
    #: kombu's SQS transport, with the topic exchange on every connection (transport.py).
    broker_transport = TRANSPORT_PATH
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
    task_default_queue = "celery"
    task_default_routing_key = "celery"
    task_default_exchange = "task_exchange"
    task_default_exchange_type = "topic"
    task_queues = None
    task_routes = None
    task_track_started = True
    #: The platform reads results as JSON, so no other serializer will do.
    task_serializer = "json"
    result_serializer = "json"
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
        defaults = self.defaults()
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
    def defaults(cls):
        """Every setting this class provides, with its default, by name."""
        found = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if name.startswith("_"):
                    continue
                if (
                    (name.isupper() or name.islower())
                    and not callable(value)
                    and not isinstance(value, (classmethod, staticmethod, property))
                ):
                    found[name] = value
        return found

    @classmethod
    def environment_name(cls, name):
        if name.isupper():
            return ENVIRONMENT_NAMES.get(name, name)
        return "CELERY_" + name.upper()

    def _resolve(self, name, default, overrides):
        if name in overrides:
            return overrides[name]
        if name in NOT_FROM_ENVIRONMENT:
            return default
        env_name = self.environment_name(name)
        if env_name not in os.environ:
            return default
        return parse_environment_value(env_name, os.environ[env_name], LITERAL_FROM_ENVIRONMENT.get(name, default))

    def _derive(self):
        s = self._settings
        for name in ("QUEUES", "WORKER_QUEUES"):
            s[name] = queue_list(name, s[name])
        if s["result_backend"] is None:
            url = URL.create(
                "postgresql+psycopg2",  # SQLAlchemy 2.1 would pick psycopg 3 otherwise
                username=s["RESULT_DB_USER"],
                password=s["RESULT_DB_PASS"],
                host=s["RESULT_DB_HOST"],
                port=s["RESULT_DB_PORT"],
                database=s["RESULT_DB_NAME"],
            )
            s["result_backend"] = CELERY_DATABASE_BACKEND + url.render_as_string(hide_password=False)
        backend = s["result_backend"]
        if isinstance(backend, str) and backend.startswith(CELERY_DATABASE_BACKEND):
            # The same database backend, but a task whose result cannot be stored runs again (results.py).
            s["result_backend"] = f"{RESULT_BACKEND_PATH}+{backend[len(CELERY_DATABASE_BACKEND) :]}"
        exchange = Exchange(s["task_default_exchange"], type=s["task_default_exchange_type"])
        if s["task_queues"] is None:
            s["task_queues"] = [
                Queue(s["task_default_queue"], exchange, routing_key=s["task_default_routing_key"]),
                Queue(s["PLATFORM_QUEUE_NAME"], exchange, routing_key="#"),
            ] + [Queue(name, exchange, routing_key=name) for name in s["QUEUES"]]
        if s["task_routes"] is None:
            s["task_routes"] = (TaskRouter(exchange, s["task_queues"]),)
        given = s["broker_transport_options"] or {}
        if not isinstance(given, dict):
            raise ConfigError(f"broker_transport_options={given!r}: expected a dict of kombu SQS transport options.")
        # Options given are laid over the derived ones, not instead of them.
        s["broker_transport_options"] = {
            "region": s["AWS_REGION"],
            "queue_name_prefix": f"{s['QUEUE_NAME_PREFIX']}-",
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
            **given,
        }

    def _validate(self):
        problems = list(self._problems())
        if problems:
            raise ConfigError("Invalid Cadasta worker configuration:\n  - " + "\n  - ".join(problems))

    def _problems(self):
        s = self._settings
        prefix = s["QUEUE_NAME_PREFIX"]
        if not isinstance(prefix, str) or not SQS_NAME.match(prefix):
            yield (f"QUEUE_PREFIX={prefix!r}: use letters, digits, '-' and '_' only (it starts every SQS queue name).")
            prefix = ""
        platform = s["PLATFORM_QUEUE_NAME"]
        if platform != PLATFORM_QUEUE:
            # The platform's sync-tasks process consumes this one queue; a worker
            # copying its tasks anywhere else leaves them untracked.
            yield (
                f"PLATFORM_QUEUE_NAME={platform!r}: the platform tracks tasks from {PLATFORM_QUEUE!r} only "
                "(QUEUE_PREFIX sets the environment); remove the setting."
            )
        transport = s["broker_transport"]
        if not _is_toolbox_transport(transport):
            yield (
                f"broker_transport={transport!r}: use the toolbox's SQS transport {TRANSPORT_PATH!r} or a subclass; "
                "without it a connection can drop task messages without a word (see toolbox/transport.py)."
            )
        reserved = {s["task_default_queue"], platform}
        seen = set()
        for name in s["QUEUES"]:
            if name in reserved:
                yield f"QUEUES lists {name!r}, which the toolbox adds itself: remove it."
            elif not isinstance(name, str) or not SQS_NAME.match(name):
                yield (f"QUEUES lists {name!r}: SQS queue names hold only letters, digits, '-' and '_'.")
            if name in seen:
                yield f"QUEUES lists {name!r} twice: name each queue once."
            seen.add(name)
        for queue in s["task_queues"]:
            name = f"{prefix}-{queue.name}"
            longest = name if queue.name == platform else dead_letter_name(name)  # work queues bring one
            if len(longest) > SQS_NAME_LIMIT:
                yield (
                    f"Queue {queue.name!r}: {longest!r} is longer than the {SQS_NAME_LIMIT} "
                    "characters SQS allows; shorten the queue name or QUEUE_PREFIX."
                )
        from_environment = os.environ.get(CELERY_RESULT_BACKEND_VARIABLE, "")
        if from_environment.startswith(CELERY_DATABASE_BACKEND):
            # Celery reads this variable itself, ahead of any configuration: it cannot be given the toolbox's backend.
            url = from_environment[len(CELERY_DATABASE_BACKEND) :]
            yield (
                f"{CELERY_RESULT_BACKEND_VARIABLE}={mask_password(from_environment)!r}: Celery would use its own "
                "database backend, which loses a task whose result cannot be stored. Set RESULT_DB_HOST, "
                "RESULT_DB_PORT, RESULT_DB_NAME, RESULT_DB_USER and RESULT_DB_PASS instead, or write it as "
                f"{mask_password(f'{RESULT_BACKEND_PATH}+{url}')!r}."
            )
        for name in ("task_serializer", "result_serializer"):
            if s[name] != "json":
                yield f"{name}={s[name]!r}: the platform reads task messages and results as JSON; keep 'json'."
        consumable = set(s["QUEUES"]) | {s["task_default_queue"]}
        for name in s["WORKER_QUEUES"]:
            if name not in consumable:
                yield (
                    f"WORKER_QUEUES lists {name!r}, which is not in QUEUES: add it to QUEUES "
                    "(every service queue is) or remove it from WORKER_QUEUES."
                )
        startup = s["STARTUP_TIMEOUT"]
        if not isinstance(startup, (int, float)) or isinstance(startup, bool) or startup <= 0:
            yield f"STARTUP_TIMEOUT={startup!r}: expected a number of seconds above 0, like 30."
        for name in ("RESULT_DB_PORT", "CHORD_UNLOCK_MAX_RETRIES"):
            if not isinstance(s[name], int) or isinstance(s[name], bool) or s[name] < 0:
                yield f"{name}={s[name]!r}: expected a whole number of at least 0."
        receives = s["SQS_MAX_RECEIVE_COUNT"]
        if not isinstance(receives, int) or isinstance(receives, bool) or not 1 <= receives <= SQS_MAX_RECEIVE_COUNT:
            yield f"SQS_MAX_RECEIVE_COUNT={receives!r}: SQS takes a whole number from 1 to {SQS_MAX_RECEIVE_COUNT}."
        options = s["broker_transport_options"]
        visibility = options.get("visibility_timeout")
        wait = options.get("wait_time_seconds", 0)
        if not isinstance(wait, int) or not 0 <= wait <= SQS_MAX_WAIT_TIME_SECONDS:
            yield (f"SQS_WAIT_TIME_SECONDS={wait!r}: SQS long polling waits 0 to {SQS_MAX_WAIT_TIME_SECONDS} seconds.")
        elif not isinstance(visibility, int) or not wait < visibility <= SQS_MAX_VISIBILITY_TIMEOUT:
            yield (
                f"SQS_VISIBILITY_TIMEOUT={visibility!r}: it must be longer than the long-poll "
                f"wait ({wait} s) and at most {SQS_MAX_VISIBILITY_TIMEOUT} s. The worker renews it while a "
                "task runs; it bounds how long a dead worker's messages stay hidden."
            )

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
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ConfigError(f"{name}={value!r}: expected a list of queue names, like ['export', 'import'] or 'a,b'.")


def _is_toolbox_transport(transport):
    if isinstance(transport, str):
        try:
            transport = symbol_by_name(transport)
        except (ImportError, AttributeError, ValueError):
            return False
    return isinstance(transport, type) and issubclass(transport, ToolboxTransport)


def mask_password(value):
    if isinstance(value, str) and "://" in value and "@" in value:
        # Greedy up to the last '@': a password may contain '@' itself.
        return re.sub(r"(://[^:/@]*:).*@", r"\1***@", value)
    return value
