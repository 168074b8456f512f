"""The Cadasta conformance suite, run against this worker's app."""

from {{ cookiecutter.package_name }} import app
from {{ cookiecutter.package_name }}.toolbox import build_functional_tests

FunctionalTests = build_functional_tests(app)
