import os

from {{ cookiecutter.package_name }} import app
from {{ cookiecutter.package_name }}.toolbox.heartbeat import INTERVAL, Heartbeat


class RecordingTimer:
    def __init__(self):
        self.calls = []

    def call_repeatedly(self, interval, function):
        self.calls.append((interval, function))
        return self


class StartingWorker:
    def __init__(self):
        self.timer = RecordingTimer()


def test_the_worker_runs_the_heartbeat_step():
    assert Heartbeat in app.steps["worker"]


def test_the_heartbeat_touches_its_file_now_and_on_the_timer(tmp_path, monkeypatch):
    heartbeat = tmp_path / "heartbeat"
    monkeypatch.setenv("HEARTBEAT_FILE", str(heartbeat))
    worker = StartingWorker()
    step = Heartbeat(worker)
    step.start(worker)
    assert heartbeat.exists()
    ((interval, beat),) = worker.timer.calls
    assert interval == INTERVAL
    os.utime(heartbeat, (0, 0))
    beat()
    assert heartbeat.stat().st_mtime > 0
