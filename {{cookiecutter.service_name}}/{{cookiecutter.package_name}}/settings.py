"""This worker's defaults. Environment variables and keyword arguments still win
(see toolbox/config.py), so deployments change them without code."""

from .toolbox import Config


class Settings(Config):
    #: Every service queue on the platform, this worker's among them.
    QUEUES = {{ ((cookiecutter.queues | queue_list) + (cookiecutter.platform_queues | queue_list)) | unique | list | tojson }}
    #: What `celery worker` consumes without -Q: this worker's queues, and
    #: 'celery' for Celery's own tasks such as chord_unlock.
    WORKER_QUEUES = {{ ((cookiecutter.queues | queue_list) + ["celery"]) | tojson }}
    QUEUE_NAME_PREFIX = {{ cookiecutter.queue_prefix | tojson }}
