"""Set-up that configuration alone cannot do, and the worker hook that runs it."""

import logging
import time

import botocore.session
import sqlalchemy
from botocore.exceptions import ClientError, NoCredentialsError
from celery import signals
from celery.backends.database import DatabaseBackend
from kombu.exceptions import OperationalError

from .errors import QueueNotProvisionedError, SetupError
from .upstream import choose_queues, queues_chosen_on_command_line

logger = logging.getLogger(__name__)

#: The steps of setting up, as their errors name them.
CAP_CHORD_UNLOCK = "cap celery.chord_unlock"
DECLARE_QUEUES = "declare the queues"
CHOOSE_QUEUES = "choose the queues to consume"
CHECK_RESULT_STORE = "check the result store"

#: Error codes with which SQS refuses the credentials: trying again cannot help.
REFUSED_CREDENTIALS = {
    "AccessDenied",
    "AccessDeniedException",
    "ExpiredToken",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
}
#: Seconds between two attempts to reach SQS at start-up.
RETRY_INTERVAL = 2


def setup_app(app, throw=True, timeout=None):
    """Finish setting up a Cadasta Celery app; record success on ``app.is_set_up``.

    Declares the exchange, every queue and every binding (this finds every
    queue in SQS and proves the broker and credentials work; it creates the
    service's own queues with their dead-letter queues where missing, and any
    other missing queue plain, unless QUEUES_PROVISIONED, when a missing queue
    is an error naming it),
    and caps the retries of ``celery.chord_unlock``. The worker calls this on
    ``worker_init``; code that only produces tasks calls it once at start-up.
    Routing itself does not depend on it: every connection of the app holds
    the exchange and its bindings from the start (see ``transport``).

    SQS that cannot be reached is tried again for ``timeout`` seconds
    (``STARTUP_TIMEOUT``); refused credentials are not. Then ``SetupError``
    names the endpoint and region, or with ``throw=False`` it is logged and
    False returned. Every step runs even when another fails; any error in
    one, expected or not, comes out as ``SetupError`` naming that step.
    """
    app.is_set_up = False
    timeout = app.conf.STARTUP_TIMEOUT if timeout is None else timeout
    steps = ((CAP_CHORD_UNLOCK, cap_chord_unlock), (DECLARE_QUEUES, lambda app: declare_routing_within(app, timeout)))
    failures = []
    for step, call in steps:
        try:
            run_step(step, call, app)
        except SetupError as error:
            failures.append(error)
    if failures:
        error = failures[0] if len(failures) == 1 else SetupError(" ".join(str(failure) for failure in failures))
        if throw:
            raise error
        logger.error("Set-up of Celery app %r failed: %s", app.main, error)
        return False
    app.is_set_up = True
    return True


def run_step(step, call, *args):
    """``call(*args)``: any error but a ``SetupError`` (which names its step) comes out as one naming ``step``."""
    try:
        return call(*args)
    except SetupError:
        raise
    except Exception as error:
        raise SetupError(f"Set-up step {step!r} failed: {type(error).__name__}: {one_line(error)}") from error


def declare_routing_within(app, timeout):
    started = time.monotonic()
    with app.connection_for_write() as connection:
        # kombu raises its OperationalError for a connection error while opening a channel.
        broker_errors = (ClientError, OperationalError, *connection.connection_errors, *connection.channel_errors)
    while True:
        try:
            return declare_routing(app)
        except broker_errors as error:
            waited = time.monotonic() - started
            if refuses_credentials(error) or waited + RETRY_INTERVAL > timeout:
                raise SetupError(
                    f"Cannot set up the queues at {describe_broker(app)} after {waited:.0f} s: {one_line(error)}. "
                    "Check CELERY_BROKER_URL, AWS_REGION and the AWS credentials." + local_stack_hint(app)
                ) from error
            logger.warning("SQS at %s does not answer yet (%s); trying again.", describe_broker(app), one_line(error))
            time.sleep(RETRY_INTERVAL)


def declare_routing(app):
    with app.connection_for_write() as connection:
        if lacks_aws_credentials(connection):
            # kombu would try again for seconds before it gave up, as if the broker were down.
            raise NoCredentialsError()
        channel = connection.default_channel
        # Brokers without dead-letter queues (the conformance suite's in-memory one) have nothing to ensure.
        ensure_dead_letter_queue = getattr(channel, "ensure_dead_letter_queue", lambda name: None)
        missing = []
        for queue in app.amqp.queues.values():
            try:
                # Finds it, and creates it where the transport may; counts nothing (sqs/queues.py).
                channel.queue_declare(queue=queue.name)
            except QueueNotProvisionedError as error:
                missing.extend(error.names)  # every missing queue in one line, not the first alone
                continue
            ensure_dead_letter_queue(queue.name)
        if missing:
            raise SetupError(str(QueueNotProvisionedError(missing)))


def refuses_credentials(error):
    """Whether SQS refused the credentials, or there are none: trying again cannot help."""
    for cause in (error, error.__cause__, error.__context__):
        if isinstance(cause, NoCredentialsError):
            return True
        if isinstance(cause, ClientError) and cause.response.get("Error", {}).get("Code") in REFUSED_CREDENTIALS:
            return True
    return False


def lacks_aws_credentials(connection):
    """Whether ``connection`` is to AWS SQS itself, with no key in its URL, and the standard AWS
    credential chain (environment, profiles, instance role ...) finds none either."""
    if connection.transport.driver_type != "sqs" or connection.hostname or connection.userid:
        return False
    return botocore.session.get_session().get_credentials() is None


def local_stack_hint(app):
    """For a worker started without a broker URL: that means real AWS, which is rarely what was meant."""
    if app.conf.broker_url:
        return ""
    return (
        " No CELERY_BROKER_URL is set, so the worker uses AWS SQS itself; for a local stack set "
        "CELERY_BROKER_URL=sqs://test:test@localhost:4566 (or run `make stack`)."
    )


def describe_broker(app):
    """Where the app's SQS is, in words, without credentials: an endpoint, or AWS itself, and the region."""
    region = app.conf.AWS_REGION
    connection = app.connection_for_write()  # opening no channel: no request is made
    try:
        if not connection.hostname:
            return f"AWS SQS in region {region}"
        secure = (connection.transport_options or {}).get("is_secure")
        port = f":{connection.port}" if connection.port else ""
        return f"{'https' if secure else 'http'}://{connection.hostname}{port} (region {region})"
    finally:
        connection.release()


def describe_result_store(app):
    """Where the app stores results, in words, without the password."""
    backend = app.backend
    if not isinstance(backend, DatabaseBackend):
        return type(backend).__name__
    url = sqlalchemy.engine.make_url(backend.url)
    return f"database {url.database!r} at {url.host}:{url.port} as {url.username!r}"


def one_line(error):
    return (str(error).strip().splitlines() or [repr(error)])[0]


def cap_chord_unlock(app):
    app.tasks["celery.chord_unlock"].max_retries = app.conf.CHORD_UNLOCK_MAX_RETRIES


def is_toolbox_app(app):
    return "PLATFORM_QUEUE_NAME" in app.conf


def select_worker_queues(queues, worker_queues, platform_queue):
    """Consume this worker's own queues, and never the platform's.

    ``queues`` is the app's ``app.amqp.queues``. Without ``-Q`` Celery would
    consume every queue in ``task_queues``: the other services' queues and the
    platform queue too, taking tasks that are not this worker's and messages
    the platform must see. An explicit ``-Q`` still wins, but for the platform
    queue.
    """
    if not queues_chosen_on_command_line(queues):
        # consume_from is all queues less any -X excluded: those stay excluded.
        chosen = [name for name in worker_queues if name in queues.consume_from]
        if not chosen:
            logger.error("WORKER_QUEUES names no queue to consume (after -X): this worker consumes nothing.")
        choose_queues(queues, chosen)
    if platform_queue in queues.consume_from:
        logger.error(
            "A worker never consumes %r (the platform's sync-tasks process does); not consuming it.", platform_queue
        )
        queues.deselect(platform_queue)


@signals.worker_init.connect(weak=False, dispatch_uid="cadasta-toolbox-worker-init")
def on_worker_init(sender=None, **kwargs):
    """Before the pool starts and before "ready": a worker without its queues, or that cannot store
    results, would sit idle or take tasks and lose their outcomes. Any failure here, expected or not,
    ends the worker with one line naming the step (Celery would log a receiver's error and go on);
    the supervisor (compose's restart: on-failure, an orchestrator) tries again."""
    app = sender.app
    if not is_toolbox_app(app):
        return
    try:
        conf = app.conf
        run_step(CHOOSE_QUEUES, select_worker_queues, app.amqp.queues, conf.WORKER_QUEUES, conf.PLATFORM_QUEUE_NAME)
        setup_app(app)
        problem = run_step(CHECK_RESULT_STORE, result_store_problem, app)
        if problem:
            raise SetupError(problem)
    except SetupError as error:
        logger.critical("%s", error)
        raise SystemExit(1) from None


@signals.celeryd_after_setup.connect(weak=False, dispatch_uid="cadasta-toolbox-describe-worker")
def on_worker_set_up(sender=None, instance=None, **kwargs):
    """One line on where the worker's messages and results go: Celery's banner shows the broker URL,
    which says "localhost" when there is none (AWS SQS itself). Sent once logging is set up, which
    worker_init is not."""
    app = instance.app
    if is_toolbox_app(app):
        logger.info("Broker: %s. Results: %s.", describe_broker(app), describe_result_store(app))


#: Seconds to wait for the result database at start-up.
RESULT_STORE_CONNECT_TIMEOUT = 10


def result_store_problem(app):
    """Why ``app`` cannot write its results, in one line without the password; None if it can."""
    backend = app.backend
    if not isinstance(backend, DatabaseBackend):
        return None
    url = sqlalchemy.engine.make_url(backend.url)
    engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": RESULT_STORE_CONNECT_TIMEOUT})
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1 FROM celery_taskmeta LIMIT 1"))
    except sqlalchemy.exc.SQLAlchemyError as error:
        return (
            f"Cannot store results in {describe_result_store(app)}: {one_line(getattr(error, 'orig', None) or error)}. "
            "Check RESULT_DB_HOST, RESULT_DB_PORT, RESULT_DB_NAME, RESULT_DB_USER and RESULT_DB_PASS."
        )
    finally:
        engine.dispose()
    return None
