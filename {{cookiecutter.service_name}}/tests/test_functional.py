"""The Cadasta conformance suite, run against this worker's app, and shown to catch what it promises to."""

import unittest

from celery import Celery

from {{ cookiecutter.package_name }} import app
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.toolbox import build_functional_tests

FunctionalTests = build_functional_tests(app)


def failures_of(suite_class, test_name):
    result = unittest.TestResult()
    suite_class(test_name).run(result)
    assert result.errors == [], result.errors
    return "\n".join(text for _, text in result.failures)


def summary():
    """A task body: what it does is not the point."""


def test_a_task_named_without_its_queue_fails_the_suite_by_name():
    careless = Celery("careless", set_as_current=False)
    careless.config_from_object(Settings())
    careless.task(name="notify_summary", shared=False)(summary)
    suite = build_functional_tests(careless)
    failed = failures_of(suite, "test_every_task_routes_to_a_queue_in_QUEUES")
    assert "Task 'notify_summary' routes to queue 'notify_summary', which is not in QUEUES" in failed
    assert "Name it '<queue>.<name>'" in failed
    failed = failures_of(suite, "test_the_workers_tasks_run_on_the_queues_it_consumes")
    assert "Task 'notify_summary' runs on queue 'notify_summary', which this worker does not consume" in failed


def test_a_task_on_another_services_queue_fails_the_worker_suite():
    other = next((q for q in Settings.QUEUES if q not in Settings.WORKER_QUEUES), None)
    if other is None:
        return  # this worker knows no other service's queue
    borrowing = Celery("borrowing", set_as_current=False)
    borrowing.config_from_object(Settings())
    borrowing.task(name=f"{other}.summary", shared=False)(summary)
    suite = build_functional_tests(borrowing)
    assert failures_of(suite, "test_every_task_routes_to_a_queue_in_QUEUES") == ""
    assert f"runs on queue {other!r}, which this worker does not consume" in failures_of(
        suite, "test_the_workers_tasks_run_on_the_queues_it_consumes"
    )
