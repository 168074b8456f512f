"""Helpers for tasks that schedule other tasks."""

from collections.abc import Iterable
from functools import wraps

from celery import chain
from celery.canvas import Signature


def chainable(build):
    """Mark a function that returns the signatures of a chain, not the chain.

    Chaining a task that itself launches a chain races: the outer chain moves
    on when the inner one has been *sent*, not when it has finished. Helpers
    decorated with this return their signatures so the caller splices them
    into its own chain: ``chain(*prepare(x), publish.s())``.
    """

    @wraps(build)
    def wrapper(*args, **kwargs):
        signatures = build(*args, **kwargs)
        if isinstance(signatures, Signature) or not isinstance(signatures, Iterable):
            raise TypeError(
                f"{build.__qualname__} is @chainable: it must return an iterable of "
                f"signatures, not {type(signatures).__name__}."
            )
        signatures = tuple(signatures)
        wrong = [s for s in signatures if not isinstance(s, Signature)]
        if not signatures or wrong:
            raise TypeError(
                f"{build.__qualname__} is @chainable: it must return one or more signatures; got {wrong or 'none'}."
            )
        return signatures

    return wrapper


def hand_over_callbacks(task, signature, **options):
    """Send ``signature`` to finish ``task``'s work; return its AsyncResult.

    ``task``'s callbacks and the rest of its chain move to the last step of
    ``signature`` (for a chord, its body), and its errbacks to every step that
    can fail on its own, so whatever waits on ``task`` waits for that work and
    hears of a failure anywhere in it. A chord's errbacks go on its body: a
    failing header member fails the chord, which calls them once (see
    ``task_allow_error_cb_on_chord_header`` in config.py). They stay with
    ``task`` if sending fails, so its errbacks still run. Use ``task.replace``
    instead when the task's own result should become that of ``signature``.
    """
    request = task.request
    if request.chord:
        raise ValueError(f"{task.name} runs inside a chord; use task.replace(signature) to hand over its place.")
    signature = signature.clone()  # links go on a copy: a retried call must not add them twice
    last = signature.tasks[-1] if signature.task == "celery.chain" else signature
    if last.task == "celery.group":
        raise ValueError("The work ends in a group, whose links attach to one member only: end it with a chord.")
    for callback in request.callbacks or ():
        last.link(callback)
    for errback in request.errbacks or ():
        link_errback(signature, errback)
    if request.chain:
        # request.chain is the rest of the parent's chain, in reverse order.
        signature = chain(signature, *(Signature(s, app=task.app) for s in reversed(request.chain)))
    result = signature.apply_async(**options)
    request.callbacks = request.errbacks = request.chain = None
    return result


def link_errback(signature, errback):
    """Link ``errback`` where a failure inside ``signature`` will call it exactly once.

    Every step of a chain (Celery calls a failed step's errbacks, not those of
    the steps after it); every member of a group; a chord's body, which the
    chord calls when a header member fails. (A group followed by another step
    in a chain is already a chord with that step as its body.)
    """
    kind = signature.task
    if kind == "celery.chain":
        for step in signature.tasks:
            link_errback(step, errback)
    elif kind == "celery.chord":
        body = signature.body
        if body.task == "celery.chain":
            # On the chain itself: Celery reads a failed chord's errbacks from its
            # body's own options, and spreads them over the steps when it runs.
            Signature.link_error(body, errback)
        else:
            link_errback(body, errback)
    elif kind == "celery.group":
        for member in signature.tasks:
            link_errback(member, errback)
    else:
        signature.link_error(errback)
