"""The Cadasta worker toolbox: what keeps this worker conformant.

``Config`` configures the app, ``setup_app`` finishes its set-up (run for you
on ``worker_init``), ``build_functional_tests`` checks it. The rest are helpers
for writing tasks.
"""

from .base_task import WorkerTask
from .canvas import chainable, hand_over_callbacks
from .config import Config, Setting
from .conformance import build_functional_tests
from .errors import ConfigError, SetupError, ToolboxError
from .setup import setup_app

__all__ = [
    "Config",
    "ConfigError",
    "SetupError",
    "Setting",
    "ToolboxError",
    "WorkerTask",
    "build_functional_tests",
    "chainable",
    "hand_over_callbacks",
    "setup_app",
]
