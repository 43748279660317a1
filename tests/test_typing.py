"""The package ships its types: ``py.typed`` in the wheel, and the typing
checks configured to cover the ``tests/type_check`` files."""

from __future__ import annotations

import os
import typing as t
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "flask_dance"
TYPE_CHECK = ROOT / "tests" / "type_check"


def _buildapi() -> t.Any:
    if os.environ.get("CI") == "true":
        import flit_core.buildapi

        return flit_core.buildapi
    return pytest.importorskip(
        "flit_core.buildapi", reason="flit_core (the build backend) is not installed"
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[zipfile.ZipFile]:
    """The wheel built from the working tree by the project's build backend."""
    buildapi = _buildapi()
    out = tmp_path_factory.mktemp("wheel")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        name = buildapi.build_wheel(str(out))
    finally:
        os.chdir(cwd)
    archive = zipfile.ZipFile(out / name)
    yield archive
    archive.close()


def test_wheel_ships_py_typed(wheel: zipfile.ZipFile) -> None:
    assert "flask_dance/py.typed" in wheel.namelist()


def test_wheel_ships_every_module(wheel: zipfile.ZipFile) -> None:
    # A module missing from the wheel would leave a typed import unresolved.
    modules = {
        path.relative_to(ROOT).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "__pycache__" not in path.parts
    }
    names = set(wheel.namelist())
    assert modules <= names, sorted(modules - names)
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    assert not [n for n in names if n.startswith("tests/")]


def test_wheel_metadata_declares_typed(wheel: zipfile.ZipFile) -> None:
    (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    text = wheel.read(metadata).decode()
    assert "Classifier: Typing :: Typed" in text.splitlines()


def test_mypy_checks_the_type_check_files() -> None:
    tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    mypy = config["tool"]["mypy"]
    assert mypy["strict"] is True
    assert set(mypy["files"]) >= {"flask_dance", "tests/type_check"}
    # mypy with no arguments fails when a listed directory has no module.
    assert sorted(p.name for p in TYPE_CHECK.glob("*.py"))
    extra = " ".join(config["project"]["optional-dependencies"]["typing"])
    for checker in ("mypy", "pyright"):
        assert checker in extra
