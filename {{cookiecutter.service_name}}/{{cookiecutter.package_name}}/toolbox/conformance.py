"""``build_functional_tests``: the Cadasta conformance suite for any app.

Offline: nothing here reaches SQS or Postgres. Channels of the app's own
transport are opened with every queue predefined, which kombu's SQS channel
takes instead of asking SQS for its queues. Deliveries are counted on an
in-memory broker that, like kombu's SQS transport, keeps the exchange table per
connection and declares the app's topology on every channel as the toolbox's
transport does, so a route or a topology that would lose a message on SQS loses
it here too.
"""

import contextlib
import tempfile
import unittest

from celery import Celery, chord, signals
from kombu import Connection
from kombu.transport import memory
from kombu.transport.virtual import BrokerState

from . import setup  # noqa: F401  (connects worker_init, which the worker test fires)
from .sqs import Transport as ToolboxTransport
from .sqs.topology import TopologyMixin

PROBE_TASK = "conformance_probe"


class PerConnectionChannel(TopologyMixin, memory.Channel):
    queues = {}  # the broker's queues, shared by all connections, apart from kombu's own memory broker


class PerConnectionMemoryTransport(memory.Transport):
    """kombu's memory broker, with SQS's per-connection exchange table and the toolbox's topology."""

    Channel = PerConnectionChannel

    def __init__(self, client, **kwargs):
        super().__init__(client, **kwargs)
        self.state = BrokerState()


class StartingWorker:
    """Stands in for the worker that sends worker_init: what the handlers read of it."""

    def __init__(self, app):
        self.app = app


def build_functional_tests(app, is_worker=True):
    """Return a ``unittest.TestCase`` class checking ``app`` against the contract.

    Assign it to a module-level name in a test module; unittest and pytest both
    collect it. With ``is_worker`` it also checks what only a worker needs.
    """

    class CadastaFunctionalTests(unittest.TestCase):
        conf = app.conf

        def test_default_queue_is_celery(self):
            self.assertEqual(self.conf.task_default_queue, "celery")

        def test_platform_queue_name(self):
            self.assertEqual(self.conf.PLATFORM_QUEUE_NAME, "platform.fifo")

        def test_exchange_is_the_topic_task_exchange(self):
            self.assertEqual(self.conf.task_default_exchange, "task_exchange")
            self.assertEqual(self.conf.task_default_exchange_type, "topic")
            for queue in app.amqp.queues.values():
                self.assertEqual((queue.exchange.name, queue.exchange.type), ("task_exchange", "topic"), queue.name)

        def test_queues_are_celery_platform_and_every_service_queue(self):
            expected = {"celery": "celery", self.conf.PLATFORM_QUEUE_NAME: "#"}
            expected.update((name, name) for name in self.conf.QUEUES)
            actual = {name: queue.routing_key for name, queue in app.amqp.queues.items()}
            self.assertEqual(actual, expected)

        def test_celery_tasks_route_to_celery(self):
            for name in ("celery.chord_unlock", "celery.backend_cleanup"):
                route = app.amqp.router.route({}, name)
                self.assertEqual(route["routing_key"], "celery", name)
                self.assertEqual(route["exchange"].name, "task_exchange", name)

        def test_service_tasks_route_by_name_prefix(self):
            for queue in self.conf.QUEUES:
                route = app.amqp.router.route({}, f"{queue}.{PROBE_TASK}")
                self.assertEqual(route["routing_key"], queue)
                self.assertEqual(route["exchange"].name, "task_exchange")

        def test_routes_name_their_queue(self):
            # Celery reads route["queue"] to send chord_unlock: without it every chord fails.
            for queue in ["celery", *self.conf.QUEUES]:
                route = app.amqp.router.route({}, f"{queue}.{PROBE_TASK}")
                self.assertEqual(route["queue"].name, queue)

        def test_every_task_routes_to_a_queue_in_QUEUES(self):
            # A task named without its queue fails only when it is sent: say so here, by name.
            known = ", ".join(self.conf.QUEUES)
            for name in _own_task_names(app):
                queue = name.split(".", 1)[0]
                example = f"{(self.conf.QUEUES or ['queue'])[0]}.{name.rsplit('.', 1)[-1]}"
                with self.subTest(task=name):
                    self.assertIn(
                        queue,
                        self.conf.QUEUES,
                        f"Task {name!r} routes to queue {queue!r}, which is not in QUEUES ({known}): no worker would "
                        f"run it. Name it '<queue>.<name>', e.g. '{example}', with a queue of QUEUES.",
                    )

        def test_the_broker_transport_is_the_toolboxs(self):
            with app.connection() as connection:
                self.assertIsInstance(connection.transport, ToolboxTransport)

        def test_a_fresh_connection_holds_the_topic_exchange_and_every_binding(self):
            # What kombu 4 kept process-wide: any connection can route, whoever opened it.
            exchange, platform = self.conf.task_default_exchange, self.conf.PLATFORM_QUEUE_NAME
            with _offline_channel(app) as channel:
                self.assertIn(exchange, channel.state.exchanges)
                self.assertEqual(channel.state.exchanges[exchange]["type"], "topic")
                for queue in ["celery", *self.conf.QUEUES]:
                    with self.subTest(queue=queue):
                        table = channel.get_table(exchange)
                        found = channel.typeof(exchange).lookup(table, exchange, queue, None)
                        self.assertEqual(found, [queue, platform])

        def test_fresh_connections_deliver_to_own_queue_and_platform(self):
            # Published on a connection nothing declared anything on beforehand.
            platform = self.conf.PLATFORM_QUEUE_NAME
            for queue in ["celery", *self.conf.QUEUES]:
                with self.subTest(queue=queue):
                    self.assertEqual(_deliveries(app, f"{queue}.{PROBE_TASK}"), {queue: 1, platform: 1})

        def test_a_chord_reaches_its_queues_and_chord_unlock_goes_to_celery(self):
            # With the database result backend Celery unlocks a chord with
            # celery.chord_unlock, routed through the router: a route without a
            # queue fails every chord before anything is sent.
            queue, platform = self.conf.QUEUES[0], self.conf.PLATFORM_QUEUE_NAME
            with _offline_app(app) as chord_app:
                header = [chord_app.signature(f"{queue}.{PROBE_TASK}", args=[part]) for part in "ab"]
                with _counting(chord_app) as sent:
                    chord(header, chord_app.signature(f"{queue}.{PROBE_TASK}_body")).apply_async()
            probe = f"{queue}.{PROBE_TASK}"
            self.assertEqual(sent[queue], [probe, probe])
            self.assertEqual(sent["celery"], ["celery.chord_unlock"])
            self.assertEqual(sorted(sent[platform]), sorted([probe, probe, "celery.chord_unlock"]))

        if is_worker:

            def test_the_workers_tasks_run_on_the_queues_it_consumes(self):
                consumed = [q for q in self.conf.WORKER_QUEUES if q != self.conf.task_default_queue]
                for name in _own_task_names(app):
                    queue = name.split(".", 1)[0]
                    with self.subTest(task=name):
                        self.assertIn(
                            queue,
                            self.conf.WORKER_QUEUES,
                            f"Task {name!r} runs on queue {queue!r}, which this worker does not consume "
                            f"(WORKER_QUEUES: {', '.join(self.conf.WORKER_QUEUES)}): it would wait there for ever. "
                            f"Name it '{consumed[0] if consumed else 'queue'}.{name.rsplit('.', 1)[-1]}', or add "
                            f"{queue!r} to WORKER_QUEUES.",
                        )

            def test_worker_init_sets_the_worker_up(self):
                # What a starting worker does, on a copy of the app whose broker is in memory.
                worker_app = Celery(f"{app.main}-conformance", set_as_current=False)
                worker_app.conf.update(
                    dict(app.conf), broker_url="memory://", broker_transport="memory", result_backend="cache+memory://"
                )
                signals.worker_init.send(sender=StartingWorker(worker_app))
                self.assertTrue(getattr(worker_app, "is_set_up", False), "worker_init did not run setup_app")
                retries = worker_app.tasks["celery.chord_unlock"].max_retries
                self.assertIsInstance(retries, int)
                self.assertEqual(retries, self.conf.CHORD_UNLOCK_MAX_RETRIES)
                self.assertTrue(self.conf.WORKER_QUEUES, "WORKER_QUEUES names no queue to consume")
                self.assertEqual(sorted(worker_app.amqp.queues.consume_from), sorted(self.conf.WORKER_QUEUES))

    return CadastaFunctionalTests


def _own_task_names(app):
    """The tasks the app registers once its modules are imported, but Celery's own."""
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def _deliveries(app, task_name):
    """Publish ``task_name`` on a fresh connection; count what each queue got."""
    with _counting(app) as sent, _memory_connection(app) as publisher:
        app.send_task(task_name, connection=publisher)
    return {name: len(tasks) for name, tasks in sent.items() if tasks}


def _memory_connection(app):
    return Connection(transport=PerConnectionMemoryTransport, transport_options=app.conf.broker_transport_options)


@contextlib.contextmanager
def _counting(app):
    """Yield {queue: [task names]}, filled with what reached each queue once the block ends."""
    names = list(app.amqp.queues)
    sent = {name: [] for name in names}
    with _memory_connection(app) as reader:
        channel = reader.channel()
        for name in names:
            channel.queue_declare(name)
            channel.queue_purge(name)
        yield sent
        for name in names:
            while (message := channel.basic_get(name, no_ack=True)) is not None:
                sent[name].append(message.headers["task"])
        channel.close()


@contextlib.contextmanager
def _offline_app(app):
    """A copy of ``app`` on the in-memory broker, with a database result backend in a temporary file."""
    with tempfile.TemporaryDirectory() as results:
        copy = Celery(f"{app.main}-conformance", set_as_current=False)
        copy.conf.update(
            dict(app.conf),
            broker_url="memory://",
            broker_transport=PerConnectionMemoryTransport,
            result_backend=f"db+sqlite:///{results}/results.sqlite",
            database_create_tables_at_setup=True,
        )
        try:
            yield copy
        finally:
            copy.close()


@contextlib.contextmanager
def _offline_channel(app):
    """A fresh channel of the app's own transport, opened without asking SQS for its queues."""
    predefined = {
        name: {"url": f"https://sqs.invalid/conformance/{name}"}
        for name in (channel_name(app, queue) for queue in app.amqp.queues)
    }
    with app.connection(transport_options={"predefined_queues": predefined}) as connection:
        channel = connection.channel()
        try:
            yield channel
        finally:
            channel.close()


def channel_name(app, queue):
    return app.conf.broker_transport_options.get("queue_name_prefix", "") + queue
