"""Jinja filters for the template's own rendering (cookiecutter loads this by name)."""

import os
import subprocess

from cookiecutter.utils import simple_filter

#: cookiecutter's own abbreviations for template sources, as the git URLs cruft can clone.
ABBREVIATIONS = {"gh": "https://github.com/{}.git", "gl": "https://gitlab.com/{}.git", "bb": "https://bitbucket.org/{}"}


@simple_filter
def queue_list(value):
    """Turn a comma-separated answer into a list of queue names, in order."""
    return [name.strip() for name in value.split(",") if name.strip()]


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
