import logging

from {{ cookiecutter.package_name }} import services, tasks


def test_count_words_ignores_case_and_punctuation():
    assert services.count_words("The cat, the hat.") == {"the": 2, "cat": 1, "hat": 1}


def test_count_words_of_nothing():
    assert services.count_words("  ") == {}


def test_the_task_calls_the_service_and_logs_its_outcome(caplog):
    with caplog.at_level(logging.INFO):
        result = tasks.count_words.apply(args=("a b a",))
    assert result.get() == {"a": 2, "b": 1}
    assert f"Task {tasks.count_words.name}[{result.id}] succeeded" in caplog.text


def test_a_failing_task_is_logged_as_an_error(caplog):
    with caplog.at_level(logging.ERROR):
        result = tasks.count_words.apply(args=(None,))
    assert result.failed()
    assert f"Task {tasks.count_words.name}[{result.id}] failed" in caplog.text
