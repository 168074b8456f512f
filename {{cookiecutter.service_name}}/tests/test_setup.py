import logging

from {{ cookiecutter.package_name }} import app
from {{ cookiecutter.package_name }}.toolbox import setup as toolbox_setup
from {{ cookiecutter.package_name }}.toolbox.setup import select_worker_queues, setup_app

PLATFORM = app.conf.PLATFORM_QUEUE_NAME
#: The queues this worker was baked to consume.
OWN_QUEUES = {{ cookiecutter.queues | queue_list | tojson }}


def fresh_queues():
    return app.amqp.Queues(app.conf.task_queues)


def test_without_Q_the_worker_consumes_WORKER_QUEUES():
    queues = fresh_queues()
    select_worker_queues(queues, app.conf.WORKER_QUEUES, PLATFORM)
    assert sorted(queues.consume_from) == sorted(app.conf.WORKER_QUEUES)


def test_by_default_the_worker_consumes_its_own_queues_and_celery_only():
    # Another service's queue consumed here would run (or fail) tasks that are not this worker's.
    queues = fresh_queues()
    select_worker_queues(queues, app.conf.WORKER_QUEUES, PLATFORM)
    assert sorted(queues.consume_from) == sorted([*OWN_QUEUES, "celery"])


def test_an_explicit_Q_wins_but_never_for_the_platform_queue(caplog):
    queues = fresh_queues()
    queues.select(["celery", PLATFORM])  # what `celery worker -Q celery,platform.fifo` does
    with caplog.at_level(logging.ERROR):
        select_worker_queues(queues, app.conf.WORKER_QUEUES, PLATFORM)
    assert list(queues.consume_from) == ["celery"]
    assert "never consumes 'platform.fifo'" in caplog.text


def test_an_X_exclusion_still_holds():
    queues = fresh_queues()
    queues.deselect("celery")  # what `celery worker -X celery` does
    select_worker_queues(queues, app.conf.WORKER_QUEUES, PLATFORM)
    assert sorted(queues.consume_from) == sorted(q for q in app.conf.WORKER_QUEUES if q != "celery")


def test_empty_WORKER_QUEUES_consumes_nothing_and_says_so(caplog):
    queues = fresh_queues()
    with caplog.at_level(logging.ERROR):
        select_worker_queues(queues, [], PLATFORM)
    assert dict(queues.consume_from) == {}
    assert "WORKER_QUEUES names no queue to consume" in caplog.text


def test_setup_app_records_success_and_caps_chord_unlock(monkeypatch):
    declared = []
    monkeypatch.setattr(toolbox_setup, "declare_routing", declared.append)
    app.tasks["celery.chord_unlock"].max_retries = None
    assert setup_app(app) is True
    assert declared == [app] and app.is_set_up is True
    assert app.tasks["celery.chord_unlock"].max_retries == app.conf.CHORD_UNLOCK_MAX_RETRIES


def test_setup_app_failure_raises_or_is_logged(monkeypatch, caplog):
    def unreachable(app):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(toolbox_setup, "declare_routing", unreachable)
    try:
        setup_app(app)
    except ConnectionError:
        pass
    else:
        raise AssertionError("setup_app(throw=True) swallowed the error")
    assert app.is_set_up is False
    with caplog.at_level(logging.ERROR):
        assert setup_app(app, throw=False) is False
    assert app.is_set_up is False
    assert "broker unreachable" in caplog.text
