import os
import time
from types import SimpleNamespace

from {{ cookiecutter.package_name }} import app
from {{ cookiecutter.package_name }}.toolbox.heartbeat import HEALTHY_WITHIN, INTERVAL, Heartbeat
from {{ cookiecutter.package_name }}.toolbox.sqs import Channel
from {{ cookiecutter.package_name }}.toolbox.sqs.receiving import CONSUMING_SLACK

from local_stack.host import stack


class RecordingTimer:
    def __init__(self):
        self.calls = []

    def call_repeatedly(self, interval, function):
        self.calls.append((interval, function))
        return self


class StartingWorker:
    """What the step sees of a worker: its timer and, once it consumes, its consumer's channel."""

    def __init__(self, channel=None):
        self.timer = RecordingTimer()
        self.consumer = SimpleNamespace(task_consumer=SimpleNamespace(channel=channel))


class ConsumingChannel:
    def __init__(self, consuming):
        self.consuming = consuming

    def is_consuming(self):
        return self.consuming


def started_heartbeat(tmp_path, monkeypatch, channel=None):
    heartbeat = tmp_path / "heartbeat"
    monkeypatch.setenv("HEARTBEAT_FILE", str(heartbeat))
    worker = StartingWorker(channel)
    Heartbeat(worker).start(worker)
    ((interval, beat),) = worker.timer.calls
    assert interval == INTERVAL
    return heartbeat, beat


def test_the_worker_runs_the_heartbeat_step():
    assert Heartbeat in app.steps["worker"]


def test_the_heartbeat_touches_its_file_now_and_on_the_timer(tmp_path, monkeypatch):
    heartbeat, beat = started_heartbeat(tmp_path, monkeypatch)
    assert heartbeat.exists()
    os.utime(heartbeat, (0, 0))
    beat()
    assert heartbeat.stat().st_mtime > 0


def test_no_heartbeat_while_the_consumer_is_stuck_and_again_once_it_consumes(tmp_path, monkeypatch):
    channel = ConsumingChannel(consuming=False)
    heartbeat, beat = started_heartbeat(tmp_path, monkeypatch, channel)
    assert not heartbeat.exists()
    channel.consuming = True
    beat()
    assert heartbeat.exists()


def test_a_channel_is_consuming_within_one_long_poll_and_some_slack():
    now = time.monotonic()

    def channel(alive_at, created_at=now - 600):
        state = SimpleNamespace(alive_at=alive_at, created_at=created_at, wait_time_seconds=20)
        state.consuming_window = lambda: Channel.consuming_window(state)
        return state

    assert Channel.is_consuming(channel(alive_at=now - 20)) is True
    assert Channel.is_consuming(channel(alive_at=now - 20 - CONSUMING_SLACK - 1)) is False
    assert Channel.is_consuming(channel(alive_at=None, created_at=now)) is True  # just made
    assert Channel.is_consuming(channel(alive_at=None)) is False  # never received since


def test_the_images_health_check_fails_once_the_heartbeat_is_older_than_healthy_within(tmp_path):
    heartbeat = tmp_path / "heartbeat"
    assert not stack.is_healthy(heartbeat)  # no heartbeat yet
    heartbeat.touch()
    assert stack.is_healthy(heartbeat)
    stale = time.time() - HEALTHY_WITHIN - 2
    os.utime(heartbeat, (stale, stale))
    assert not stack.is_healthy(heartbeat)
