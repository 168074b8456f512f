"""A heartbeat file for container health checks: touched only while the worker consumes.

Celery's remote-control ping needs broadcast messaging, which SQS does not
offer. So the worker touches HEARTBEAT_FILE every few seconds, but only while
its consuming loop has received from SQS within one long poll and some slack,
or has chosen not to poll because every slot is busy (``Channel.is_consuming``).
A worker whose loop is stuck, or that cannot reach SQS, stops touching it;
the image's health check fails once the file is older than HEALTHY_WITHIN.
"""

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from celery import bootsteps

logger = logging.getLogger(__name__)

#: Seconds between two checks (and touches) of the heartbeat.
INTERVAL = 5.0
#: The age past which the health check calls the file stale: the Dockerfile's HEALTHCHECK says the same.
HEALTHY_WITHIN = 20


def is_consuming(channel: Any) -> bool:
    """Whether ``channel`` (a consuming channel, or None before there is one) shows a live consuming loop."""
    check = getattr(channel, "is_consuming", None)
    # Before the consumer starts, or on a transport without the check (the conformance suite's), the timer alone.
    return True if check is None else check()


class Heartbeat(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        path = os.environ.get("HEARTBEAT_FILE")
        self.path = Path(path) if path else None
        self.timer_entry = None
        self.worker = worker
        self.was_consuming = True

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
        consumer = getattr(getattr(self.worker, "consumer", None), "task_consumer", None)
        consuming = is_consuming(getattr(consumer, "channel", None))
        if consuming != self.was_consuming:
            if consuming:
                logger.info("Consuming again: the heartbeat file is touched again.")
            else:
                logger.error("The consumer has not received from SQS lately: no heartbeat until it does.")
            self.was_consuming = consuming
        if consuming:
            self.path.touch()
