"""The worker's tasks. Keep them thin: each calls a service function.

A task's name starts with the queue it runs on (`<queue>.<name>`): the toolbox
routes by that prefix, so other services can send it by name alone.
"""

from celery import chain, chord

from . import services
from .celery import app
from .toolbox import WorkerTask, chainable, hand_over_callbacks

QUEUE = "{{ (cookiecutter.queues | queue_list)[0] }}"


@app.task(base=WorkerTask, name=f"{QUEUE}.count_words")
def count_words(text):
    return services.count_words(text)


@app.task(base=WorkerTask, name=f"{QUEUE}.top_words")
def top_words(counts, n=3):
    return services.top_words(counts, n)


@app.task(base=WorkerTask, name=f"{QUEUE}.merge_top_words")
def merge_top_words(counts, n=3):
    """A chord's body: the parts' counts arrive as one list, in the header's order."""
    return services.top_words(services.merge_counts(counts), n)


@chainable
def word_report(text, n):
    """The steps of a word report, for splicing into a caller's chain."""
    return count_words.s(text), top_words.s(n)


@app.task(base=WorkerTask, bind=True, name=f"{QUEUE}.report_top_words")
def report_top_words(self, text, n=3):
    """Schedule the report as follow-up tasks; whoever waits on this task's
    callbacks now waits for the report's last step. Returns that step's id."""
    return hand_over_callbacks(self, chain(*word_report(text, n))).id


@app.task(base=WorkerTask, bind=True, name=f"{QUEUE}.report_top_words_of_parts")
def report_top_words_of_parts(self, parts, n=3):
    """Count the parts in parallel and merge them: a chord, as an export runs its
    parts. Whoever waits on this task's callbacks waits for the merge, and its
    errbacks hear of a part that failed. Returns the merge's task id."""
    return hand_over_callbacks(self, chord((count_words.s(part) for part in parts), merge_top_words.s(n))).id
