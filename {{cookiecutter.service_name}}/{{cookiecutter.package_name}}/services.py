"""The worker's business logic: plain functions, testable without Celery."""

from collections import Counter


def count_words(text):
    """Return how often each word occurs in ``text``, case-insensitively."""
    words = (word.strip(".,;:!?\"'()").lower() for word in text.split())
    return dict(Counter(word for word in words if word))


def top_words(counts, n):
    """The ``n`` most frequent words of ``counts`` as [word, count] pairs, ties by word."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [[word, count] for word, count in ranked[:n]]


def merge_counts(counts):
    """Add up several word counts (as ``count_words`` returns them) into one."""
    total = Counter()
    for part in counts:
        total.update(part)
    return dict(total)
