"""``build_functional_tests``: the Cadasta conformance suite for any app.

Offline: nothing here reaches SQS or Postgres. Routing is checked on an
in-memory broker that, like kombu's SQS transport, keeps the exchange table
per connection, so a route that only works on a connection where the
exchange was declared earlier fails here as it would on SQS.
"""

import unittest

from celery import Celery, signals
from kombu import Connection
from kombu.transport import memory
from kombu.transport.virtual import BrokerState

from . import setup  # noqa: F401  (connects worker_init, which the worker test fires)

PROBE_TASK = "conformance_probe"


class PerConnectionChannel(memory.Channel):
    queues = {}  # the broker's queues, shared by all connections, apart from kombu's own memory broker


class PerConnectionMemoryTransport(memory.Transport):
    """kombu's memory broker, but with SQS's per-connection exchange table."""

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

        def test_fresh_connections_deliver_to_own_queue_and_platform(self):
            # Every publish gets a connection of its own that nothing declared
            # on beforehand: the route must declare what it needs itself.
            platform = self.conf.PLATFORM_QUEUE_NAME
            for queue in ["celery", *self.conf.QUEUES]:
                with self.subTest(queue=queue):
                    self.assertEqual(_deliveries(app, f"{queue}.{PROBE_TASK}"), {queue: 1, platform: 1})

        if is_worker:

            def test_worker_init_sets_the_worker_up(self):
                # What a starting worker does, on a copy of the app whose broker is in memory.
                worker_app = Celery(f"{app.main}-conformance", set_as_current=False)
                worker_app.conf.update(dict(app.conf), broker_url="memory://", broker_transport="memory")
                signals.worker_init.send(sender=StartingWorker(worker_app))
                self.assertTrue(getattr(worker_app, "is_set_up", False), "worker_init did not run setup_app")
                retries = worker_app.tasks["celery.chord_unlock"].max_retries
                self.assertIsInstance(retries, int)
                self.assertEqual(retries, self.conf.CHORD_UNLOCK_MAX_RETRIES)
                self.assertTrue(self.conf.WORKER_QUEUES, "WORKER_QUEUES names no queue to consume")
                self.assertEqual(sorted(worker_app.amqp.queues.consume_from), sorted(self.conf.WORKER_QUEUES))

    return CadastaFunctionalTests


def _deliveries(app, task_name):
    """Publish ``task_name`` on a fresh connection; count what each queue got."""
    names = list(app.amqp.queues)
    with Connection(transport=PerConnectionMemoryTransport) as reader:
        channel = reader.channel()
        for name in names:
            channel.queue_declare(name)
            channel.queue_purge(name)
        # The publisher stays open while counting: closing a memory channel empties its queues.
        with Connection(transport=PerConnectionMemoryTransport) as publisher:
            app.send_task(task_name, connection=publisher)
            counts = {name: channel.queue_purge(name) for name in names}
        channel.close()
    return {name: count for name, count in counts.items() if count}
