"""Tasks the end-to-end tests load into a real worker (celery worker -I ...)."""

from {{ cookiecutter.package_name }}.celery import app
from {{ cookiecutter.package_name }}.settings import Settings

PRIMARY_QUEUE = Settings.WORKER_QUEUES[0]


@app.task(bind=True, name=f"{PRIMARY_QUEUE}.e2e_relay")
def relay(self, task_name, marker):
    """Send a follow-up task from inside a running task, as real workers do."""
    return self.app.send_task(task_name, args=[marker]).id
