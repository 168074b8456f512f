"""Set-up that configuration alone cannot do, and the worker hook that runs it."""

import logging

import sqlalchemy
from celery import signals
from celery.backends.database import DatabaseBackend

logger = logging.getLogger(__name__)


def setup_app(app, throw=True):
    """Finish setting up a Cadasta Celery app; record success on ``app.is_set_up``.

    Declares the exchange, every queue and every binding on the broker (this
    creates missing SQS queues, gives every work queue its dead-letter queue
    and proves the broker and credentials work),
    and caps the retries of ``celery.chord_unlock``. The worker calls this on
    ``worker_init``; code that only produces tasks calls it once at start-up.
    Routing itself does not depend on it: every connection of the app holds
    the exchange and its bindings from the start (see ``transport``).
    """
    app.is_set_up = False
    try:
        declare_routing(app)
        cap_chord_unlock(app)
    except Exception:
        if throw:
            raise
        logger.exception("Set-up of Celery app %r failed; its tasks may not be routed or tracked.", app.main)
        return False
    app.is_set_up = True
    return True


def declare_routing(app):
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=3)
        channel = connection.default_channel
        # Brokers without dead-letter queues (the conformance suite's in-memory one) have nothing to ensure.
        ensure_dead_letter_queue = getattr(channel, "ensure_dead_letter_queue", lambda name: None)
        for queue in app.amqp.queues.values():
            queue.bind(channel).declare()
            ensure_dead_letter_queue(queue.name)


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
    # Celery keeps no public record of whether -Q was given: _consume_from
    # stays None until something selects. tests/test_setup.py pins this.
    if queues._consume_from is None:
        # consume_from is all queues less any -X excluded: those stay excluded.
        chosen = [name for name in worker_queues if name in queues.consume_from]
        if not chosen:
            logger.error("WORKER_QUEUES names no queue to consume (after -X): this worker consumes nothing.")
        queues._consume_from = {}
        queues.select(chosen)
    if platform_queue in queues.consume_from:
        logger.error(
            "A worker never consumes %r (the platform's sync-tasks process does); not consuming it.", platform_queue
        )
        queues.deselect(platform_queue)


@signals.worker_init.connect(weak=False, dispatch_uid="cadasta-toolbox-worker-init")
def on_worker_init(sender=None, **kwargs):
    app = sender.app
    if not is_toolbox_app(app):
        return
    select_worker_queues(app.amqp.queues, app.conf.WORKER_QUEUES, app.conf.PLATFORM_QUEUE_NAME)
    setup_app(app, throw=False)
    problem = result_store_problem(app)
    if problem:
        # Before the pool starts and before "ready": a worker that cannot store
        # results would take tasks and lose their outcomes. Exiting lets the
        # supervisor (compose's restart: on-failure) try again.
        logger.critical(problem)
        raise SystemExit(problem)


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
        reason = str(getattr(error, "orig", error) or error).strip().splitlines()[0]
        return (
            f"Cannot store results in database {url.database!r} at {url.host}:{url.port} as {url.username!r}: "
            f"{reason}. Check RESULT_DB_HOST, RESULT_DB_PORT, RESULT_DB_NAME, RESULT_DB_USER and RESULT_DB_PASS."
        )
    finally:
        engine.dispose()
    return None
