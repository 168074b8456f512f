"""Every Celery canvas the platform's services use works, and is tracked.

Chords run with the database result backend, whose chords Celery unlocks with
celery.chord_unlock: every member gets a task row and a result, with the parent
and root Celery gives it, whoever sends the chord.
"""

import json
import time

import pytest
from celery import chain, chord, group

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.tasks import QUEUE
from {{ cookiecutter.package_name }}.toolbox.results import BACKEND_PATH as RESULT_BACKEND_PATH

from local_stack.host.processes import wait_until
from tests.e2e.conftest import PROBE_QUEUE, producer_app

COUNT_WORDS = f"{QUEUE}.count_words"
MERGE_TOP_WORDS = f"{QUEUE}.merge_top_words"
REPORT_OF_PARTS = f"{QUEUE}.report_top_words_of_parts"
#: Another service's queue: callbacks and errbacks are often its tasks. No
#: worker consumes it here; the platform still tracks every message sent to it.
OTHER_SERVICE = next((queue for queue in Settings.QUEUES if queue not in Settings.WORKER_QUEUES), None)
ON_DONE, ON_FAILED = f"{OTHER_SERVICE}.report_ready", f"{OTHER_SERVICE}.report_failed"
needs_another_service = pytest.mark.skipif(
    OTHER_SERVICE is None, reason="QUEUES names no queue of another service to send callbacks to"
)
PLATFORM = "platform.fifo"


def tracked(platform, where, *parameters):
    return platform.query(f"SELECT task_id, type, parent_id, root_id FROM platform_task WHERE {where}", *parameters)


def calls_of(platform, task_type, first_argument, **scope):
    """The tracked messages of ``task_type`` whose first argument is ``first_argument``, and whose
    columns named in ``scope`` hold its values: a stack used before (compose) holds earlier runs' calls."""
    where = "type = %s AND input -> 'args' -> 0 = %s::jsonb" + "".join(f" AND {column} = %s" for column in scope)
    return tracked(platform, where, task_type, json.dumps(first_argument), *scope.values())


def wait_for_calls(platform, task_type, first_argument, **scope):
    return wait_until(
        lambda: calls_of(platform, task_type, first_argument, **scope),
        60,
        lambda: f"{task_type} was never sent with {first_argument!r} ({scope})",
    )


def test_a_chord_from_a_producer_is_tracked_member_by_member(platform, producer):
    header = [producer.signature(COUNT_WORDS, args=[text]) for text in ("a b", "b c")]
    body = chord(header, producer.signature(MERGE_TOP_WORDS, args=[2])).apply_async()
    body_row = platform.wait_for_task_and_result(body.id)
    assert body_row["result"] == [["b", 2], ["a", 1]]
    members = [platform.wait_for_task_and_result(member.id) for member in body.parent.results]
    assert [m["result"] for m in members] == [{"a": 1, "b": 1}, {"b": 1, "c": 1}]
    # Sent from outside any task, each member is a root of its own; the body is
    # sent by chord_unlock, which the producer sent.
    assert [(m["parent_id"], m["root_id"]) for m in members] == [(None, m.id) for m in body.parent.results]
    (unlock,) = tracked(platform, "type = 'celery.chord_unlock' AND task_id = %s", body_row["parent_id"])
    assert (unlock["parent_id"], unlock["root_id"]) == (None, unlock["task_id"])
    assert body_row["root_id"] == unlock["task_id"]


@needs_another_service
@pytest.mark.parametrize(
    ("parts", "expected"),
    [(["a b", "b c", "c"], [["b", 2], ["c", 2]]), (["one part part"], [["part", 2], ["one", 1]])],
    ids=["three-parts", "single-header-task"],
)
def test_a_chord_handed_over_by_a_running_task(platform, producer, parts, expected):
    links = {"link": producer.signature(ON_DONE), "link_error": producer.signature(ON_FAILED)}
    report = producer.send_task(REPORT_OF_PARTS, args=[parts, 2], **links)
    body_id = platform.wait_for_task_and_result(report.id)["result"]
    body_row = platform.wait_for_task_and_result(body_id)
    assert body_row["result"] == expected
    members = tracked(platform, "parent_id = %s AND type = %s", report.id, COUNT_WORDS)
    assert len(members) == len(parts)
    for member in members:
        assert member["root_id"] == report.id
        platform.wait_for_task_and_result(member["task_id"])
    (unlock,) = tracked(platform, "parent_id = %s AND type = 'celery.chord_unlock'", report.id)
    assert (body_row["parent_id"], body_row["root_id"]) == (unlock["task_id"], report.id)
    # The parent's callback runs after the body, with the body's result.
    (done,) = wait_for_calls(platform, ON_DONE, expected, root_id=report.id)
    assert (done["parent_id"], done["root_id"]) == (body_id, report.id)
    assert tracked(platform, "type = %s AND root_id = %s", ON_FAILED, report.id) == []


@needs_another_service
def test_a_failing_header_member_reaches_the_parents_errback_once(platform, producer):
    links = {"link": producer.signature(ON_DONE), "link_error": producer.signature(ON_FAILED)}
    report = producer.send_task(REPORT_OF_PARTS, args=[["fine", None], 2], **links)
    body_id = platform.wait_for_task_and_result(report.id)["result"]
    # The body never runs (so never gets a task row); the chord stores its failure.
    failed = platform.wait_until(body_id, lambda row: row["status"] == "FAILURE")
    assert failed["result"]["exc_type"] == "ChordError" and "AttributeError" in failed["traceback"]
    wait_for_calls(platform, ON_FAILED, body_id)
    time.sleep(3)  # a second call would follow within the chord_unlock retry interval (1 s)
    assert len(calls_of(platform, ON_FAILED, body_id)) == 1
    assert tracked(platform, "type = %s AND root_id = %s", ON_DONE, report.id) == []


@needs_another_service
def test_a_group_piped_into_a_chain_runs_as_a_chord(platform, producer):
    work = group(producer.signature(COUNT_WORDS, args=[text]) for text in ("piped piped", "piped into")) | chain(
        producer.signature(MERGE_TOP_WORDS, args=[1]), producer.signature(ON_DONE)
    )
    last = work.apply_async()
    (done,) = wait_for_calls(platform, ON_DONE, [["piped", 3]], task_id=last.id)
    assert done["task_id"] == last.id
    merged = platform.wait_for_task_and_result(done["parent_id"])
    assert merged["type"] == MERGE_TOP_WORDS and merged["result"] == [["piped", 3]]
    (unlock,) = tracked(platform, "task_id = %s AND type = 'celery.chord_unlock'", merged["parent_id"])
    assert merged["root_id"] == done["root_id"] == unlock["task_id"]


def test_chord_unlock_goes_through_the_celery_queue_and_gives_up_when_capped(
    platform, stack_env, sqs, start_worker, monkeypatch
):
    # A chord whose header never finishes: its member waits in a queue no worker consumes.
    results = f"{RESULT_BACKEND_PATH}+" + platform.worker_dsn.replace("postgresql://", "postgresql+psycopg2://")
    environment = {**stack_env, "CELERY_RESULT_BACKEND": results, "CHORD_UNLOCK_MAX_RETRIES": "2"}
    worker = start_worker(**environment)
    app = producer_app(environment, monkeypatch)
    chord([app.signature(f"{PROBE_QUEUE}.never_runs")], app.signature(COUNT_WORDS)).apply_async()
    worker.wait_for_log("MaxRetriesExceededError", timeout=60)
    unlocks = wait_until(
        lambda: [m for m in sqs.every_message(PLATFORM) if m["headers"]["task"] == "celery.chord_unlock"],
        30,
        lambda: "no chord_unlock reached the platform queue",
    )
    assert [m["headers"]["retries"] for m in unlocks] == [0, 1, 2]
    assert {m["properties"]["delivery_info"]["routing_key"] for m in unlocks} == {"celery"}
    assert f"Task celery.chord_unlock[{unlocks[0]['headers']['id']}] received" in worker.log()
