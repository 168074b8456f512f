import warnings

import pytest
from celery import Celery, chain, chord, group
from celery.canvas import Signature

from {{ cookiecutter.package_name }}.toolbox import chainable, hand_over_callbacks

app = Celery("canvas-tests", set_as_current=False)
app.conf.task_allow_error_cb_on_chord_header = False  # as Config sets it


# shared=False: these are this test app's own; Celery would otherwise give them to the worker's app too.
@app.task(name="t.first", shared=False)
def first(x):
    return x


@app.task(name="t.second", shared=False)
def second(x):
    return x


@app.task(name="t.on_done", shared=False)
def on_done(x):
    return x


@app.task(name="t.on_error", shared=False)
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
    """Just what hand_over_callbacks reads: the app, its name and the running request."""

    name = "t.parent"

    def __init__(self, **request):
        self.app = app
        fields = {"callbacks": None, "errbacks": None, "chain": None, "chord": None, **request}
        self.request = type("Request", (), fields)()


@pytest.fixture
def sent(monkeypatch):
    """What hand_over_callbacks sends, instead of sending it."""
    signatures = []

    def apply_async(self, **options):
        signatures.append(self)
        return "result"

    monkeypatch.setattr(Signature, "apply_async", apply_async)
    # chain(...) builds an instance of Celery's own chain class, with its own apply_async.
    monkeypatch.setattr(type(chain(first.s(), second.s())), "apply_async", apply_async)
    monkeypatch.setattr(type(chord([first.s()], second.s())), "apply_async", apply_async)
    return signatures


def test_callbacks_and_errbacks_move_to_the_last_task_of_the_chain(sent):
    task = FakeTask(callbacks=[on_done.s()], errbacks=[on_error.s()])
    assert hand_over_callbacks(task, chain(first.s(1), second.s())) == "result"
    (handed,) = sent
    first_step, last_step = handed.unchain_tasks()  # the steps as Celery sends them
    assert [s["task"] for s in last_step.options["link"]] == ["t.on_done"]
    assert "link" not in first_step.options
    # A failure at any step reaches the errbacks, not only at the last one.
    for step in (first_step, last_step):
        assert [s["task"] for s in step.options["link_error"]] == ["t.on_error"]
    assert task.request.callbacks is None and task.request.errbacks is None


def test_the_rest_of_the_parents_chain_runs_after_the_new_work(sent):
    # Celery keeps the remaining chain in reverse order.
    task = FakeTask(chain=[dict(on_error.s()), dict(on_done.s())])
    hand_over_callbacks(task, first.s(1))
    (handed,) = sent
    assert [s.task for s in handed.tasks] == ["t.first", "t.on_done", "t.on_error"]
    assert all(isinstance(s, Signature) for s in handed.tasks)
    assert task.request.chain is None


def test_the_callers_signature_is_left_as_it_was(sent):
    work = chain(first.s(1), second.s())
    hand_over_callbacks(FakeTask(callbacks=[on_done.s()], errbacks=[on_error.s()]), work)
    assert all("link" not in s.options and "link_error" not in s.options for s in work.tasks)


def test_a_failed_send_leaves_the_errbacks_with_the_task(monkeypatch):
    def refuse(self, **options):
        raise ConnectionError("broker down")

    monkeypatch.setattr(Signature, "apply_async", refuse)
    task = FakeTask(errbacks=[on_error.s()])
    with pytest.raises(ConnectionError):
        hand_over_callbacks(task, first.s(1))
    assert [s["task"] for s in task.request.errbacks] == ["t.on_error"]


def test_work_that_ends_in_a_group_or_a_task_in_a_chord_is_refused():
    with pytest.raises(ValueError, match="ends in a group"):
        hand_over_callbacks(FakeTask(), chain(first.s(1), group(second.s(), second.s())))
    with pytest.raises(ValueError, match="runs inside a chord"):
        hand_over_callbacks(FakeTask(chord={"task": "t.on_done"}), first.s(1))


def test_a_chords_callbacks_and_errbacks_go_on_its_body_without_a_warning(sent):
    task = FakeTask(callbacks=[on_done.s()], errbacks=[on_error.s()])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Celery warns when chord.link_error is used with the header excluded
        hand_over_callbacks(task, chord([first.s(1), first.s(2)], second.s()))
    (handed,) = sent
    assert [s["task"] for s in handed.body.options["link"]] == ["t.on_done"]
    assert [s["task"] for s in handed.body.options["link_error"]] == ["t.on_error"]
    # A failing member fails the chord, which calls the body's errbacks: once, not once per member.
    assert all("link_error" not in member.options for member in handed.tasks)


def test_a_chord_whose_body_is_a_chain_keeps_its_errbacks_on_the_chain(sent):
    task = FakeTask(errbacks=[on_error.s()])
    hand_over_callbacks(task, chord([first.s(1)], chain(second.s(), on_done.s())))
    (handed,) = sent
    assert [s["task"] for s in handed.body.options["link_error"]] == ["t.on_error"]
    assert all("link_error" not in step.options for step in handed.body.tasks)


def test_a_group_inside_a_chain_leaves_its_errbacks_to_the_step_after_it(sent):
    # Celery makes the group and the step after it a chord: the step is its body.
    task = FakeTask(errbacks=[on_error.s()])
    hand_over_callbacks(task, chain(first.s(1), group(second.s(), second.s()), on_done.s()))
    (handed,) = sent
    first_step, upgraded = handed.tasks
    assert "link_error" in first_step.options and "link_error" in upgraded.body.options
    assert all("link_error" not in member.options for member in upgraded.tasks)
