"""Fixtures for testing this worker's tasks."""

import pytest

from {{ cookiecutter.package_name }} import app
from {{ cookiecutter.package_name }}.toolbox.sqs import Channel
from {{ cookiecutter.package_name }}.toolbox.testing import capture_sends

from tests.memory_sqs import MemorySQS


@pytest.fixture
def sent_tasks():
    """Every task the app sends during the test, recorded instead of sent: its name, args, queue, callbacks,
    the rest of its chain, its chord (toolbox/testing.py). Run the task under test with ``.apply()``."""
    with capture_sends(app) as sent:
        yield sent


@pytest.fixture
def channel_sqs(monkeypatch):
    """An in-memory SQS (tests/memory_sqs.py) that every SQS client of the toolbox's channel talks to."""
    memory = MemorySQS()
    monkeypatch.setattr(Channel, "sqs", lambda self, queue=None: memory)
    return memory
