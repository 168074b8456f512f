import logging

from celery import chain

from {{ cookiecutter.package_name }} import services, tasks
from {{ cookiecutter.package_name }}.celery import app
from {{ cookiecutter.package_name }}.toolbox import WorkerTask


def test_count_words_ignores_case_and_punctuation():
    assert services.count_words("The cat, the hat.") == {"the": 2, "cat": 1, "hat": 1}


def test_count_words_of_nothing():
    assert services.count_words("  ") == {}


def test_the_task_calls_the_service_and_its_success_is_logged_once(caplog):
    with caplog.at_level(logging.INFO):
        result = tasks.count_words.apply(args=("a b a",))
    assert result.get() == {"a": 2, "b": 1}
    assert caplog.text.count(f"Task {tasks.count_words.name}[{result.id}] succeeded") == 1


def test_a_failing_task_is_logged_once_as_an_error_with_its_traceback(caplog):
    with caplog.at_level(logging.ERROR):
        result = tasks.count_words.apply(args=(None,))
    assert result.failed()
    (record,) = [r for r in caplog.records if result.id in r.getMessage()]
    assert record.levelno == logging.ERROR and record.exc_info is not None


def test_top_words_ranks_by_count_then_word():
    assert services.top_words({"b": 2, "a": 2, "c": 3, "d": 1}, 3) == [["c", 3], ["a", 2], ["b", 2]]


def test_the_word_report_is_a_chain_of_the_two_steps():
    steps = tasks.word_report("a b", 2)
    assert [s.task for s in steps] == [tasks.count_words.name, tasks.top_words.name]
    assert steps[0].args == ("a b",) and steps[1].args == (2,)


def test_the_chain_computes_the_report_when_run_in_process():
    assert chain(*tasks.word_report("b a b c", 1)).apply().get() == [["b", 2]]


def test_merge_counts_adds_the_parts_up():
    assert services.merge_counts([{"a": 1, "b": 2}, {"b": 1}, {}]) == {"a": 1, "b": 3}


def test_a_chord_body_ranks_the_merged_parts():
    assert tasks.merge_top_words.apply(args=([{"a": 1, "b": 2}, {"a": 2}], 1)).get() == [["a", 3]]


def test_subclass_hooks_still_run_after_the_base_tasks():
    # A service adds reporting by mixing in a base of its own: WorkerTask must pass outcomes on.
    seen = []

    class Reporting(app.Task):
        def on_success(self, retval, task_id, args, kwargs):
            seen.append(("success", retval))

        def on_failure(self, exc, task_id, args, kwargs, einfo):
            seen.append(("failure", type(exc).__name__))

    class Reported(WorkerTask, Reporting):
        pass

    @app.task(base=Reported, name=f"{tasks.QUEUE}.reported_probe")
    def probe(fail):
        if fail:
            raise ValueError("failed")
        return "ok"

    probe.apply(args=(False,))
    probe.apply(args=(True,))
    assert seen == [("success", "ok"), ("failure", "ValueError")]


# -- Tasks that send tasks: the sent_tasks fixture (tests/conftest.py) records what they send -----------
def test_the_report_hands_its_work_over_to_a_chain_on_this_workers_queue(sent_tasks):
    result = tasks.report_top_words.apply(args=("b a b",), kwargs={"n": 1})
    (first,) = sent_tasks  # the chain's first step; the rest travels with it
    assert first.name == tasks.count_words.name and first.args == ("b a b",)
    assert first.queue == tasks.QUEUE and first.next_steps == [tasks.top_words.name]
    (last,) = first.chain
    assert result.get() == last["options"]["task_id"]  # whoever waits on the report waits for its last step


def test_the_report_of_parts_counts_each_part_and_merges_them_in_a_chord(sent_tasks):
    tasks.report_top_words_of_parts.apply(args=(["a b", "b c"],))
    parts = sent_tasks.named(tasks.count_words.name)
    assert [part.args for part in parts] == [("a b",), ("b c",)]
    assert {part.chord["task"] for part in parts} == {tasks.merge_top_words.name}
    (unlock,) = sent_tasks.named("celery.chord_unlock")  # polls the header's results, then runs the merge
    assert unlock.queue == "celery"


def test_a_task_sent_to_another_service_is_named_by_its_queue(sent_tasks):
    other = next((q for q in app.conf.QUEUES if q not in app.conf.WORKER_QUEUES), tasks.QUEUE)
    app.signature(f"{other}.anything", args=["x"]).apply_async()
    (sent,) = sent_tasks
    assert sent.queue == other and sent.args == ("x",)
