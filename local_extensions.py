"""Jinja filters for the template's own rendering (cookiecutter loads this by name)."""

from cookiecutter.utils import simple_filter


@simple_filter
def queue_list(value):
    """Turn a comma-separated answer into a list of queue names, in order."""
    return [name.strip() for name in value.split(",") if name.strip()]
