"""The result backend gives back a task whose state cannot be stored (toolbox/results.py)."""

import logging

import pytest
from celery import Celery
from celery.app.trace import trace_task
from celery.exceptions import BackendStoreError, Reject

from {{ cookiecutter.package_name }}.toolbox.results import BACKEND_PATH, ResultBackend


def app_storing_in(url, create_tables=True):
    app = Celery("results-test", set_as_current=False)
    app.conf.update(
        broker_url="memory://",
        result_backend=f"{BACKEND_PATH}+{url}",
        database_create_tables_at_setup=create_tables,
        task_track_started=True,
        result_backend_base_sleep_between_retries_ms=1,
    )

    @app.task(name="results-test.add", shared=False)
    def add(x, y):
        return x + y

    return app, add


def run_from_a_message(task, task_id):
    """Trace ``task`` as a pool process does for a message it received."""
    request = {"id": task_id, "delivery_info": {"routing_key": "celery", "exchange": "task_exchange"}}
    return trace_task(task, task_id, (2, 3), {}, request=request, app=task.app, eager=False)


@pytest.fixture
def working(tmp_path):
    return app_storing_in(f"sqlite:///{tmp_path}/results.sqlite")


@pytest.fixture
def unreachable(tmp_path):
    # SQLite cannot open a file in a folder that does not exist: every write fails, as with a database down.
    return app_storing_in(f"sqlite:///{tmp_path}/missing/results.sqlite", create_tables=False)


def test_the_app_uses_the_toolbox_backend(working):
    app, _ = working
    assert isinstance(app.backend, ResultBackend)


def test_a_stored_result_is_kept_as_celery_keeps_it(working):
    app, add = working
    run_from_a_message(add, "stored-1")
    meta = app.backend.get_task_meta("stored-1")
    assert (meta["status"], meta["result"]) == ("SUCCESS", 5)


def test_a_worker_never_creates_or_alters_the_platforms_tables(unreachable):
    app, _ = unreachable
    assert app.backend.session_manager.prepared is True


def test_a_task_whose_state_cannot_be_stored_gives_its_message_back(unreachable, caplog):
    _, add = unreachable
    with caplog.at_level(logging.ERROR), pytest.raises(Reject) as rejected:
        run_from_a_message(add, "unstored-1")
    assert rejected.value.requeue is True
    assert "Task unstored-1: could not store its STARTED state" in caplog.text


def test_outside_a_running_task_the_store_error_reaches_the_caller(unreachable):
    # The worker's main process and producers have no message to give back.
    app, _ = unreachable
    with pytest.raises(BackendStoreError):
        app.backend.store_result("elsewhere-1", 5, "SUCCESS")


def test_one_statement_stores_a_state_and_never_writes_over_a_success(working):
    # A task run again after a crash keeps its first result, as with Celery's own store.
    app, _ = working
    backend = app.backend
    backend.store_result("again-1", {"pid": 1}, "STARTED")
    backend.store_result("again-1", 5, "SUCCESS")
    backend.store_result("again-1", {"pid": 2}, "STARTED")
    meta = backend.get_task_meta("again-1")
    assert (meta["status"], meta["result"]) == ("SUCCESS", 5)
    assert backend.dialect == "sqlite"  # the upsert, not Celery's read-then-write
