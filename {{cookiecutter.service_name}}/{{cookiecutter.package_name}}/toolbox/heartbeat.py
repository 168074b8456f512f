"""A heartbeat file for container health checks.

Celery's remote-control ping needs broadcast messaging, which SQS does not
offer, so the worker proves it is alive by touching HEARTBEAT_FILE from its
own timer every few seconds; the health check looks at the file's age.
"""

import contextlib
import os
from pathlib import Path

from celery import bootsteps

INTERVAL = 10.0


class Heartbeat(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        path = os.environ.get("HEARTBEAT_FILE")
        self.path = Path(path) if path else None
        self.timer_entry = None

    def start(self, worker):
        if self.path:
            self.beat()
            self.timer_entry = worker.timer.call_repeatedly(INTERVAL, self.beat)

    def stop(self, worker):
        if self.timer_entry is not None:
            self.timer_entry.cancel()
        if self.path:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def beat(self):
        self.path.touch()
