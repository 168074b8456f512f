"""What the toolbox relies on in kombu and Celery beyond their documented API.

Each test pins one detail against the pinned versions, so an update that
changes it fails here, by name, instead of silently in production.
"""

import inspect

from celery.app import trace
from celery.backends.base import BaseBackend
from celery.backends.database.session import SessionManager
from celery.worker.request import Request
from kombu import Connection
from kombu.transport import SQS
from kombu.transport.virtual import BrokerState
from kombu.transport.virtual import Channel as VirtualChannel
from kombu.transport.virtual.exchange import TopicExchange

from {{ cookiecutter.package_name }} import app
from {{ cookiecutter.package_name }}.toolbox.transport import TRANSPORT_PATH, Transport

LOCALSTACK_URL = "sqs://test:test@localhost:4566"


def test_an_explicit_transport_wins_over_the_url_scheme():
    # Config names the toolbox's transport while broker_url keeps the sqs:// scheme.
    connection = Connection(LOCALSTACK_URL, transport=TRANSPORT_PATH)
    assert connection.transport_cls == TRANSPORT_PATH
    assert isinstance(connection.transport, Transport)
    assert (connection.hostname, connection.port, connection.userid) == ("localhost", 4566, "test")


def test_each_connection_has_its_own_exchange_table():
    # The reason the toolbox declares the topology on every channel (kombu 4 shared one table).
    first, second = (Connection(LOCALSTACK_URL, transport=TRANSPORT_PATH).transport for _ in range(2))
    assert isinstance(first.state, BrokerState) and first.state is not second.state


def test_channels_instantiate_their_exchange_types_from_the_class_attribute():
    assert "exchange_types" in vars(VirtualChannel) and "topic" in VirtualChannel.exchange_types
    assert "self.exchange_types = {" in inspect.getsource(VirtualChannel.__init__)


def test_topic_exchange_tables_hold_key_pattern_and_queue():
    exchange = TopicExchange(channel=None)
    assert exchange.prepare_bind("q", "x", "q", None) == ("q", exchange.key_to_pattern("q"), "q")
    assert exchange._match(exchange.key_to_pattern("#"), "anything")


def test_predefined_queues_spare_the_channel_its_list_queues_request():
    # The offline conformance suite opens channels of the real transport this way.
    source = inspect.getsource(SQS.Channel._update_queue_cache)
    assert source.index("if self.predefined_queues") < source.index("list_queues")


def test_chord_unlock_is_routed_by_the_routers_queue():
    source = inspect.getsource(BaseBackend.fallback_chord_unlock)
    assert "self.app.amqp.router.route(kwargs, body.name)['queue']" in source


def test_a_failed_chord_calls_the_errbacks_in_its_bodys_options():
    # hand_over_callbacks links a chord's errbacks to its body (config.py says why).
    assert 'errbacks=callback.options.get("link_error", [])' in inspect.getsource(BaseBackend.chord_error_from_stack)
    assert app.conf.task_allow_error_cb_on_chord_header is False


def test_unacknowledged_deliveries_are_in_qos_delivered_until_flushed_dirty():
    # VisibilityKeeper reads both: acknowledged and rejected tags linger, marked dirty.
    qos = SQS.QoS(channel=NotRestoring())
    qos.append("message", "tag")
    qos.ack("tag")
    assert qos._delivered == {"tag": "message"} and qos._dirty == {"tag"}


class NotRestoring:
    do_restore = False


def test_the_async_receive_takes_a_visibility_timeout():
    parameters = inspect.signature(SQS.Channel._get_from_sqs).parameters
    assert list(parameters) == ["self", "queue_name", "queue_url", "connection", "count", "callback"]
    from kombu.asynchronous.aws.sqs.connection import AsyncSQSConnection

    assert "visibility_timeout" in inspect.signature(AsyncSQSConnection.receive_message).parameters


def test_requeue_and_shutdown_restore_through_channel_restore():
    # The toolbox's Channel._restore gives a message back to its own queue only.
    assert "self.channel._restore_at_beginning(" in inspect.getsource(SQS.QoS.__mro__[1].reject)
    assert "config" in inspect.signature(SQS.Channel._new_boto_client).parameters


def test_a_reject_from_storing_a_result_leaves_the_tracer_and_requeues():
    # results.ResultBackend raises Reject(requeue=True) from store_result inside the tracer: the
    # tracer lets it out, and the main process's Request.on_failure rejects the message with it.
    assert "except Reject:\n            raise" in inspect.getsource(trace.build_tracer)
    assert "return self.reject(requeue=exc.requeue)" in inspect.getsource(Request.on_failure)


def test_the_async_receive_asks_for_the_receive_count():
    # Channel._restore delays a redelivery by the message's ApproximateReceiveCount.
    from kombu.asynchronous.aws.sqs.connection import AsyncSQSConnection

    assert '["ApproximateReceiveCount"]' in inspect.getsource(AsyncSQSConnection.__init__)


def test_a_prepared_session_manager_skips_creating_and_altering_tables():
    # results.ResultBackend marks it prepared: the worker's role may not change the platform's schema.
    source = inspect.getsource(SessionManager.prepare_models)
    assert "if not self.prepared:" in source and "create_all" in source
