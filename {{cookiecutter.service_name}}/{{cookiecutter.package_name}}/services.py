"""The worker's business logic: plain functions, testable without Celery."""

from collections import Counter


def count_words(text):
    """Return how often each word occurs in ``text``, case-insensitively."""
    words = (word.strip(".,;:!?\"'()").lower() for word in text.split())
    return dict(Counter(word for word in words if word))
