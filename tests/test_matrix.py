"""The support matrix (.ci/matrix) tests what pyproject.toml declares: its
constraints files pin the declared floors, and it runs every Python that the
classifiers name."""

from __future__ import annotations

import re
import subprocess
import typing as t
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "tests" / "constraints"


def _pyproject() -> dict[str, t.Any]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    with open(ROOT / "pyproject.toml", "rb") as f:
        data: dict[str, t.Any] = tomllib.load(f)
    return data


def _floors(requirements: list[str]) -> dict[str, Version]:
    floors = {}
    for line in requirements:
        requirement = Requirement(line)
        for spec in requirement.specifier:
            if spec.operator == ">=":
                floors[requirement.name.lower()] = Version(spec.version)
    return floors


def _pins(name: str) -> dict[str, Version]:
    pins = {}
    for line in (CONSTRAINTS / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            package, version = line.split("==")
            pins[package.strip().lower()] = Version(version.strip())
    return pins


def test_lowest_environment_pins_every_declared_floor() -> None:
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    declared = _floors(project["dependencies"]) | _floors(extras["oidc"])
    # the libraries the suite drives the package with
    test_floors = _floors(extras["test"])
    for name in ("flask-sqlalchemy", "flask-login", "flask-caching", "redis"):
        declared[name] = test_floors[name]
    pins = _pins("lowest.txt")
    assert {name: pins.get(name) for name in declared} == declared


def test_sqlalchemy_1_4_environment_pins_the_sqla_floor() -> None:
    extras = _pyproject()["project"]["optional-dependencies"]
    floor = _floors(extras["sqla"])["sqlalchemy"]
    assert floor < Version("2")
    assert _pins("sqla14-lowest.txt")["sqlalchemy"] == floor


def test_every_declared_python_has_an_environment() -> None:
    classifiers = _pyproject()["project"]["classifiers"]
    declared = {
        match.group(1)
        for c in classifiers
        if (match := re.fullmatch(r"Programming Language :: Python :: (3\.\d+)", c))
    }
    rows = subprocess.run(
        ["bash", str(ROOT / ".ci" / "matrix"), "show"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    pythons = {row.split("|")[1].strip() for row in rows}
    # 3.11 is the main environment of .ci/run itself
    assert pythons | {"3.11"} == declared
    assert {row.split("|")[0].strip() for row in rows} >= {"lowest", "sqla14-lowest"}
