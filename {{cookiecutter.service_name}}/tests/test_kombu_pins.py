"""What the toolbox relies on in kombu and Celery beyond their documented API: toolbox/upstream.py's table.

Every detail in ``DETAILS`` keeps the signature the toolbox calls or overrides,
and every detail whose behaviour matters has a check here that exercises it
on the pinned versions, offline. An update that changes one fails here, by name.
"""

from types import SimpleNamespace

import pytest
import sqlalchemy
from billiard.einfo import ExceptionInfo
from celery.app import trace
from celery.app.amqp import Queues
from celery.backends.base import BaseBackend
from celery.backends.database.session import SessionManager
from celery.contrib.testing.mocks import TaskMessage
from celery.exceptions import Reject
from celery.worker.request import Request
from kombu import Connection
from kombu.asynchronous import Hub, set_event_loop
from kombu.transport import SQS
from kombu.transport.virtual import BrokerState, QoS
from kombu.transport.virtual import Channel as VirtualChannel
from kombu.transport.virtual.exchange import TopicExchange

from {{ cookiecutter.package_name }} import app
from {{ cookiecutter.package_name }}.tasks import count_words
from {{ cookiecutter.package_name }}.toolbox import upstream
from {{ cookiecutter.package_name }}.toolbox.sqs import Channel
from {{ cookiecutter.package_name }}.toolbox.sqs.publishing import DeliveringTopicExchange
from {{ cookiecutter.package_name }}.toolbox.sqs.receiving import ReportingAsyncSQSConnection
from {{ cookiecutter.package_name }}.toolbox.transport import TRANSPORT_PATH, Transport

LOCALSTACK_URL = "sqs://test:test@localhost:4566"
#: An address where nothing listens: a request made there fails at once.
NOWHERE_URL = "sqs://test:test@127.0.0.1:9"
QUEUE = app.conf.WORKER_QUEUES[0]
BEHAVIOUR = {}


def pins(owner, attribute):
    """Register the decorated function as the behaviour check of ``owner.attribute``'s detail."""

    def register(check):
        BEHAVIOUR[upstream.Detail(owner, attribute, None, "").name] = check
        return check

    return register


def offline_channel():
    """A channel of the app's transport, every queue predefined, its broker an address where nothing listens."""
    prefix = app.conf.broker_transport_options["queue_name_prefix"]
    predefined = {prefix + name: {"url": f"https://sqs.invalid/{prefix}{name}"} for name in app.amqp.queues}
    connection = app.connection(NOWHERE_URL, transport_options={"predefined_queues": predefined})
    return connection, connection.channel()


# -- The table itself ---------------------------------------------------------------
@pytest.mark.parametrize("detail", upstream.DETAILS, ids=lambda detail: detail.name)
def test_every_detail_keeps_the_signature_the_toolbox_relies_on(detail):
    assert hasattr(detail.owner, detail.attribute) or detail.parameters is None, f"{detail.name} is gone"
    assert detail.signature_problem() is None, detail.signature_problem()


def test_every_detail_is_pinned_by_its_signature_or_its_behaviour():
    names = {detail.name for detail in upstream.DETAILS}
    assert set(BEHAVIOUR) <= names, "a behaviour check for a detail that is not in the table"
    unpinned = [d.name for d in upstream.DETAILS if d.parameters is None and d.name not in BEHAVIOUR]
    assert unpinned == []


def test_the_channel_overrides_only_details_in_the_table():
    listed = {(detail.owner, detail.attribute) for detail in upstream.DETAILS}
    kombu_classes = [klass for klass in Channel.__mro__ if klass.__module__.startswith("kombu.")]
    ours = [klass for klass in Channel.__mro__ if klass not in kombu_classes and klass is not object]
    overridden = []
    for klass in ours:
        for name in vars(klass):
            if name.startswith("_") and not name.startswith("__"):
                owner = next((k for k in kombu_classes if name in vars(k)), None)
                if owner is not None and (owner, name) not in listed:
                    overridden.append(f"{klass.__name__}.{name} overrides {owner.__qualname__}.{name}")
    assert overridden == [], "add these to toolbox/upstream.py's DETAILS"


# -- kombu ---------------------------------------------------------------------------
def test_an_explicit_transport_wins_over_the_url_scheme():
    # Config names the toolbox's transport while broker_url keeps the sqs:// scheme.
    connection = Connection(LOCALSTACK_URL, transport=TRANSPORT_PATH)
    assert connection.transport_cls == TRANSPORT_PATH
    assert isinstance(connection.transport, Transport)
    assert (connection.hostname, connection.port, connection.userid) == ("localhost", 4566, "test")


@pins(BrokerState, "exchanges")
def each_connection_has_its_own_exchange_table():
    # The reason the toolbox declares the topology on every channel (kombu 4 shared one table).
    first, second = (Connection(LOCALSTACK_URL, transport=TRANSPORT_PATH).transport for _ in range(2))
    assert isinstance(first.state, BrokerState) and first.state is not second.state
    assert first.state.exchanges is not second.state.exchanges


@pins(VirtualChannel, "exchange_types")
def channels_instantiate_their_exchange_types_from_the_class_attribute():
    connection, channel = offline_channel()
    with connection:
        assert isinstance(channel.exchange_types["topic"], DeliveringTopicExchange)
        assert channel.exchange_types["topic"].channel is channel


@pins(TopicExchange, "_match")
def topic_exchange_tables_hold_key_pattern_and_queue():
    exchange = TopicExchange(channel=None)
    assert exchange.prepare_bind("q", "x", "q", None) == ("q", exchange.key_to_pattern("q"), "q")
    assert exchange._match(exchange.key_to_pattern("#"), "anything")
    assert not exchange._match(exchange.key_to_pattern("q"), "other")


@pins(SQS.Channel, "_update_queue_cache")
def predefined_queues_spare_the_channel_its_list_queues_request():
    # The offline conformance suite opens channels of the real transport this way; a ListQueues to
    # an address where nothing listens would fail.
    connection, channel = offline_channel()
    with connection:
        assert upstream.queue_urls(channel)


@pins(SQS.Channel, "_queue_cache")
def the_channel_remembers_queue_urls_by_sqs_name():
    connection, channel = offline_channel()
    with connection:
        url = channel._new_queue(QUEUE)
        assert upstream.queue_urls(channel)[channel.canonical_queue_name(QUEUE)] == url
        assert channel.forget_queue(QUEUE) == url and channel.canonical_queue_name(QUEUE) not in upstream.queue_urls(
            channel
        )


@pins(SQS.Channel, "_asynsqs")
def the_asynchronous_client_is_made_once_by_asynsqs():
    connection, channel = offline_channel()
    hub = Hub()
    set_event_loop(hub)  # the asynchronous client's HTTP client belongs to the event loop
    try:
        with connection:
            channel.predefined_queues = {}  # kombu's client for predefined queues is another
            client = channel.asynsqs()
            assert isinstance(client, ReportingAsyncSQSConnection) and channel._asynsqs is client
            assert channel.asynsqs() is client
    finally:
        set_event_loop(None)
        hub.close()


@pins(SQS.Channel, "_active_queues")
def consuming_a_queue_makes_it_active():
    connection, channel = offline_channel()
    with connection:
        channel.basic_consume(QUEUE, True, lambda message: None, "consumer-tag")
        assert QUEUE in channel._active_queues
        channel.basic_cancel("consumer-tag")
        assert QUEUE not in channel._active_queues


@pins(SQS.Channel, "get_message_attributes")
def every_receive_asks_for_the_receive_count():
    # The lifecycle delays a message given back by its ApproximateReceiveCount.
    connection, channel = offline_channel()
    with connection:
        assert "ApproximateReceiveCount" in channel.get_message_attributes["MessageSystemAttributeNames"]


@pins(VirtualChannel, "_qos")
def the_qos_is_made_on_first_use_only():
    connection, channel = offline_channel()
    with connection:
        assert channel._qos is None and list(channel.held_messages()) == []
        assert channel.qos is channel._qos


class NotRestoring:
    do_restore = False


def delivered(name):
    return SimpleNamespace(name=name, delivery_info={"routing_key": QUEUE})


@pins(QoS, "_delivered")
def unacknowledged_deliveries_are_in_qos_delivered():
    qos = SQS.QoS(channel=NotRestoring())
    qos.append("message", "tag")
    assert qos._delivered == {"tag": "message"} and list(upstream.unfinished_deliveries(qos)) == ["message"]


@pins(QoS, "_dirty")
def finished_deliveries_linger_in_delivered_marked_dirty():
    qos = SQS.QoS(channel=NotRestoring())
    qos.append("message", "tag")
    qos.ack("tag")
    assert qos._delivered == {"tag": "message"} and qos._dirty == {"tag"}
    assert list(upstream.unfinished_deliveries(qos)) == []


@pins(QoS, "reject")
def a_requeue_restores_through_the_channels_restore():
    restored = []

    class Restoring(NotRestoring):
        predefined_queues = {}

        def _restore_at_beginning(self, message):
            return VirtualChannel._restore_at_beginning(self, message)

        def _restore(self, message):
            restored.append(message)

    qos = SQS.QoS(channel=Restoring())
    message = delivered("message")
    qos.append(message, "tag")
    qos.reject("tag", requeue=True)
    assert restored == [message]


# -- Celery --------------------------------------------------------------------------
@pins(Queues, "_consume_from")
def consume_from_is_none_until_queues_are_chosen():
    queues = app.amqp.Queues(app.conf.task_queues)
    assert not upstream.queues_chosen_on_command_line(queues)
    queues.select([QUEUE])
    assert upstream.queues_chosen_on_command_line(queues) and list(queues.consume_from) == [QUEUE]


@pins(SessionManager, "prepared")
def a_prepared_session_manager_creates_and_alters_no_table():
    for prepared, tables in ((True, []), (False, ["celery_taskmeta", "celery_tasksetmeta"])):
        engine = sqlalchemy.create_engine("sqlite://")
        manager = SessionManager()
        manager.prepared = prepared
        manager.prepare_models(engine)
        assert sorted(sqlalchemy.inspect(engine).get_table_names()) == tables


@pins(BaseBackend, "fallback_chord_unlock")
def chord_unlock_is_routed_by_the_routers_queue():
    sent = []
    unlock = app.tasks["celery.chord_unlock"]
    original = unlock.apply_async
    unlock.apply_async = lambda *args, **kwargs: sent.append(kwargs)
    try:
        header = app.GroupResult("group-id", [app.AsyncResult("member-id")])
        app.backend.fallback_chord_unlock(header, app.signature(f"{QUEUE}.anything"))
    finally:
        unlock.apply_async = original
    assert [kwargs["queue"] for kwargs in sent] == [QUEUE]


@pins(trace, "build_tracer")
def a_reject_from_storing_a_result_leaves_the_tracer():
    # results.ResultBackend raises Reject(requeue=True) when a state cannot be stored.
    def refuse(*args, **kwargs):
        raise Reject("not stored", requeue=True)

    tracer = trace.build_tracer(count_words.name, count_words, app=app, eager=False, propagate=False)
    original, count_words.backend.store_result = count_words.backend.store_result, refuse
    try:
        with pytest.raises(Reject):
            tracer("task-id", ["some words"], {}, {"id": "task-id", "delivery_info": {}})
    finally:
        count_words.backend.store_result = original


@pins(Request, "on_failure")
def the_main_process_requeues_a_rejected_task():
    requeued = []
    request = Request(
        TaskMessage(count_words.name, id="task-id", args=("some words",)),
        app=app,
        task=count_words,
        on_reject=lambda logger, errors, requeue: requeued.append(requeue),
    )
    try:
        raise Reject("not stored", requeue=True)
    except Reject:
        request.on_failure(ExceptionInfo())
    assert requeued == [True]


def test_a_failed_chord_calls_the_errbacks_in_its_bodys_options():
    # hand_over_callbacks links a chord's errbacks to its body (config.py says why); the behaviour of
    # chord_error_from_stack is pinned end to end by tests/e2e/test_canvas.py, its signature by the table.
    assert app.conf.task_allow_error_cb_on_chord_header is False


# Last: the checks above register themselves as they are defined.
@pytest.mark.parametrize("name", sorted(BEHAVIOUR))
def test_behaviour(name):
    BEHAVIOUR[name]()
