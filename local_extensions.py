"""Jinja filters for the template's own rendering (cookiecutter loads this by name)."""

import os
import re
import subprocess

from cookiecutter.utils import simple_filter

#: cookiecutter's own abbreviations for template sources, as the git URLs cruft can clone.
ABBREVIATIONS = {"gh": "https://github.com/{}.git", "gl": "https://gitlab.com/{}.git", "bb": "https://bitbucket.org/{}"}
REMOTE = re.compile(r"^(\w+://|git@|[\w.-]+@[\w.-]+:)")


@simple_filter
def queue_list(value):
    """Turn a comma-separated answer into a list of queue names, in order."""
    return [name.strip() for name in value.split(",") if name.strip()]


@simple_filter
def template_source(context):
    """Where this bake's template came from, as cruft records it: {"template": URL or path, "commit": sha}.

    Runs in the cookiecutter process, whose working directory is the one the
    template path was given relative to. ``commit`` is None when the template
    is not a git checkout (a zip, a copied folder).
    """
    given, repo_dir = context.get("_template", ""), context.get("_repo_dir", "")
    prefix, _, rest = given.partition(":")
    if prefix in ABBREVIATIONS and rest:
        template = ABBREVIATIONS[prefix].format(rest)
    elif REMOTE.match(given):
        template = given
    else:
        template = os.path.abspath(repo_dir or given)
    head = subprocess.run(["git", "-C", repo_dir or given, "rev-parse", "HEAD"], capture_output=True, text=True)
    return {"template": template, "commit": head.stdout.strip() if head.returncode == 0 else None}
