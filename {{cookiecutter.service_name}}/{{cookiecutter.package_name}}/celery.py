"""The Celery app: `celery -A {{ cookiecutter.package_name }} worker` runs it."""

from celery import Celery

from .settings import Settings
from .toolbox.heartbeat import Heartbeat

app = Celery("{{ cookiecutter.package_name }}", include=["{{ cookiecutter.package_name }}.tasks"])
app.config_from_object(Settings())
app.steps["worker"].add(Heartbeat)
