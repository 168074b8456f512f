import pytest
from celery import Celery, chain
from celery.canvas import Signature

from {{ cookiecutter.package_name }}.toolbox import chainable, hand_over_callbacks

app = Celery("canvas-tests", set_as_current=False)


@app.task(name="t.first")
def first(x):
    return x


@app.task(name="t.second")
def second(x):
    return x


@app.task(name="t.on_done")
def on_done(x):
    return x


@app.task(name="t.on_error")
def on_error(*args):
    return args


def test_chainable_returns_the_signatures():
    @chainable
    def steps(x):
        return [first.s(x), second.s()]

    result = steps(1)
    assert isinstance(result, tuple) and [s.task for s in result] == ["t.first", "t.second"]


@pytest.mark.parametrize("returned", [None, 3, [first.s(1), "second"], [], first.s(1)])
def test_chainable_refuses_anything_but_signatures(returned):
    @chainable
    def steps():
        return returned

    with pytest.raises(TypeError, match="steps is @chainable"):
        steps()


class FakeTask:
    """Just what hand_over_callbacks reads: the app and the running request."""

    def __init__(self, **request):
        self.app = app
        self.request = type("Request", (), {"callbacks": None, "errbacks": None, "chain": None, **request})()


def test_callbacks_and_errbacks_move_to_the_last_task_of_the_chain():
    task = FakeTask(callbacks=[on_done.s()], errbacks=[on_error.s()])
    handed = hand_over_callbacks(task, chain(first.s(1), second.s()))
    last = handed.tasks[-1]
    assert [s["task"] for s in last.options["link"]] == ["t.on_done"]
    assert [s["task"] for s in last.options["link_error"]] == ["t.on_error"]
    assert "link" not in handed.tasks[0].options
    assert task.request.callbacks is None and task.request.errbacks is None


def test_the_rest_of_the_parents_chain_runs_after_the_new_work():
    # Celery keeps the remaining chain in reverse order.
    task = FakeTask(chain=[dict(on_error.s()), dict(on_done.s())])
    handed = hand_over_callbacks(task, first.s(1))
    assert [s.task for s in handed.tasks] == ["t.first", "t.on_done", "t.on_error"]
    assert all(isinstance(s, Signature) for s in handed.tasks)
    assert task.request.chain is None
