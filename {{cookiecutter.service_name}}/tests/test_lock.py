"""uv.lock holds exactly the dependencies pyproject.toml asks for: change a pin and this fails until `make lock`."""

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def asked_for():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return {pinned(Requirement(r).name, Requirement(r).extras, str(Requirement(r).specifier)) for r in requirements}


def locked():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    name = canonicalize_name(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"])
    (own,) = [package for package in lock["package"] if package["name"] == name]
    return {pinned(r["name"], r.get("extras", ()), r.get("specifier", "")) for r in own["metadata"]["requires-dist"]}


def pinned(name, extras, specifier):
    return canonicalize_name(name), tuple(sorted(extras)), specifier


def test_the_lock_holds_what_pyproject_asks_for():
    missing, stale = asked_for() - locked(), locked() - asked_for()
    assert not missing and not stale, (
        f"uv.lock is out of date with pyproject.toml: not locked {sorted(missing)}, locked but no longer asked "
        f"for {sorted(stale)}. Run `make lock` and commit uv.lock."
    )


def test_the_lock_matches_the_projects_python():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert lock["requires-python"] == project["requires-python"], "Run `make lock` and commit uv.lock."
