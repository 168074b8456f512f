"""Jinja filters for the template's own rendering (cookiecutter loads this by name)."""

import importlib.util
import logging
import os
import subprocess
from pathlib import Path

from cookiecutter.utils import simple_filter

#: The platform's contract and SQS's naming rules, as the baked toolbox holds them: the answers are checked
#: (hooks/pre_gen_project.py) and split by the same rules the worker keeps.
TEMPLATE = Path(__file__).resolve().parent
CONTRACT = TEMPLATE / "{{cookiecutter.service_name}}" / "{{cookiecutter.package_name}}" / "toolbox" / "contract.py"


def load_contract():
    """The baked toolbox's contract module, loaded from the template (it imports only the standard library)."""
    spec = importlib.util.spec_from_file_location("worker_contract", CONTRACT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


contract = load_contract()


class HookFailureWithoutTraceback(logging.Filter):
    """cookiecutter logs a failed hook with its own traceback, after the hook has said what is wrong and how
    to fix it; the traceback shows only cookiecutter's code. This process loads these filters, so it can
    keep the line and drop the traceback."""

    def filter(self, record):
        if record.getMessage().startswith("Stopping generation because"):
            record.exc_info, record.exc_text = None, None
        return True


logging.getLogger("cookiecutter.hooks").addFilter(HookFailureWithoutTraceback())

#: cookiecutter's own abbreviations for template sources, as the git URLs cruft can clone.
ABBREVIATIONS = {"gh": "https://github.com/{}.git", "gl": "https://gitlab.com/{}.git", "bb": "https://bitbucket.org/{}"}


@simple_filter
def queue_list(value):
    """Turn a comma-separated answer into a list of queue names, in order."""
    return contract.queue_list(value)


@simple_filter
def template_dir(context):
    """Where this file is, for the hooks, which run as scripts of their own and import it from there."""
    return str(TEMPLATE)


@simple_filter
def template_source(context):
    """Where this bake's template came from, as cruft records it: {"template": URL or path, "commit": sha}.

    A template cookiecutter cloned (gh:..., a URL, an abbreviation of the
    user's own) is recorded by its clone's origin URL; a local one by its
    absolute path. ``commit`` is None unless the template is the top of a git
    checkout (not a zip, not a folder inside some other repository).
    """
    given, repo_dir = context.get("_template", ""), context.get("_repo_dir", "")
    # Hooks are rendered with the template as the working directory, so a relative path means it.
    directory = repo_dir if os.path.isabs(repo_dir) else os.getcwd()
    top = git(directory, "rev-parse", "--show-toplevel")
    commit = git(directory, "rev-parse", "HEAD") if top and os.path.samefile(top, directory) else None
    if repo_dir == given:  # a local template: cookiecutter used it where it is
        return {"template": os.path.abspath(directory), "commit": commit}
    prefix, _, rest = given.partition(":")
    fallback = ABBREVIATIONS[prefix].format(rest) if prefix in ABBREVIATIONS and rest else given
    return {"template": (commit and git(directory, "remote", "get-url", "origin")) or fallback, "commit": commit}


def git(directory, *arguments):
    """What git prints for ``arguments`` in ``directory``, or None if it fails."""
    result = subprocess.run(["git", "-C", directory, *arguments], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None
