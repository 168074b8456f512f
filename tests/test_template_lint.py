"""The template's own Python is held to the standard of the projects it bakes."""

from tests.conftest import TEMPLATE, ruff, run


def test_ruff_finds_nothing_in_the_template():
    lint = run([*ruff(), "check", "."], cwd=TEMPLATE)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatting = run([*ruff(), "format", "--check", "."], cwd=TEMPLATE)
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr
