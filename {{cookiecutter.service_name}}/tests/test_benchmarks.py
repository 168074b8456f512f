import pytest

from benchmarks.throughput import logged_at


def test_the_benchmark_times_a_drain_by_the_timestamps_the_services_log():
    # The worker logs as Celery does, the sync-tasks stub as Python's logging does.
    ready = "[2026-01-31 12:00:00,250: INFO/MainProcess] celery@host ready."
    stored = "2026-01-31 12:00:01,750 INFO sync_tasks: task 1f2e example.count_words parent=None root=1f2e"
    assert logged_at(stored) - logged_at(ready) == pytest.approx(1.5)


def test_a_log_line_without_a_timestamp_stops_the_benchmark_with_the_line():
    with pytest.raises(ValueError, match="no timestamp in this log line: 'ready.'"):
        logged_at("ready.")
