"""The repository contract: the files a newcomer, a packager and CI rely on."""

from __future__ import annotations

import configparser
import importlib.metadata
import importlib.util
import io
import re
import shutil
import subprocess
import typing as t
from pathlib import Path

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent

#: The demo, test and docs commands, in this order, near the top of the README.
README_COMMANDS = (
    "python3 -m venv .venv && .venv/bin/pip install -e '.[oidc]'"
    " && .venv/bin/python -m flask_dance.demo",
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test,oidc]'"
    " && .venv/bin/python -m pytest",
    "python3 -m venv .venv && .venv/bin/pip install -e '.[docs]'"
    " && .venv/bin/sphinx-build -E -W -b dirhtml docs docs/_build/dirhtml",
)

#: The pages every docs build must have, in the order of the index toctrees.
DOCS_PAGES = (
    "installation",
    "quickstart",
    "provider-quickstarts",
    "concepts",
    "magic",
    "providers",
    "storages",
    "signals",
    "multi-user",
    "oidc",
    "lifecycle",
    "logout",
    "templates",
    "security",
    "testing",
    "deployment",
    "performance",
    "migrating",
    "example-apps",
    "api",
    "contributing",
    "changes",
)


def _read(name: str) -> str:
    return (ROOT / name).read_text("utf-8")


def _rst_problems(text: str) -> list[str]:
    """Parse reST with plain docutils, as PyPI renders the README, and return
    the warnings and errors it reports.
    """
    docutils_core = pytest.importorskip("docutils.core")
    from docutils import nodes

    doctree = docutils_core.publish_doctree(
        text,
        settings_overrides={
            "report_level": 5,
            "halt_level": 5,
            "warning_stream": io.StringIO(),
            "syntax_highlight": "none",
        },
    )
    return [
        msg.astext()
        for msg in doctree.findall(nodes.system_message)
        if msg["level"] >= 2
    ]


def _code_blocks(text: str) -> list[tuple[int, str]]:
    """Return ``(line number, content)`` for each ``code-block`` in reST text."""
    lines = text.splitlines()
    blocks = []

    for index, line in enumerate(lines):
        if not line.startswith(".. code-block::"):
            continue

        body = []

        for following in lines[index + 1 :]:
            if following and not following.startswith(" "):
                break

            body.append(following.strip())

        blocks.append((index + 1, "\n".join(body).strip()))

    return blocks


@pytest.fixture(scope="module")
def pyproject() -> dict[str, t.Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")

    with (ROOT / "pyproject.toml").open("rb") as f:
        data: dict[str, t.Any] = tomllib.load(f)

    return data


def test_readme_starts_with_demo_test_and_docs_commands() -> None:
    blocks = _code_blocks(_read("README.rst"))
    assert [content for _, content in blocks[:3]] == list(README_COMMANDS)
    # "Near the top": all three are on the first screen of the README.
    assert blocks[2][0] <= 45


def test_readme_commands_use_declared_extras(pyproject: dict[str, t.Any]) -> None:
    extras = set(pyproject["project"]["optional-dependencies"])

    for command in README_COMMANDS:
        match = re.search(r"pip install -e '\.\[([a-z,]+)\]'", command)
        assert match is not None, command
        assert set(match.group(1).split(",")) <= extras


def test_readme_is_valid_rst() -> None:
    assert _rst_problems(_read("README.rst")) == []


def test_license_is_mit(pyproject: dict[str, t.Any]) -> None:
    text = _read("LICENSE")
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 The Flask-Dance contributors" in text
    assert "Permission is hereby granted, free of charge" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
    assert pyproject["project"]["license"] == {"file": "LICENSE"}
    classifiers = pyproject["project"]["classifiers"]
    assert "License :: OSI Approved :: MIT License" in classifiers


def test_changes_is_valid_rst() -> None:
    assert _rst_problems(_read("CHANGES.rst")) == []


def test_changes_follows_pallets_format() -> None:
    lines = _read("CHANGES.rst").splitlines()
    headings = [i for i, line in enumerate(lines) if line.startswith("Version ")]
    assert headings
    assert headings[0] == 0

    for i in headings:
        heading, underline, blank, status = lines[i : i + 4]
        Version(heading.removeprefix("Version "))  # PEP 440, or InvalidVersion
        assert underline == "-" * len(heading)
        assert blank == ""
        assert status == "Unreleased" or re.fullmatch(
            r"Released \d{4}-\d{2}-\d{2}", status
        )

    for line in lines:
        if line.startswith("-") and set(line) != {"-"}:
            assert line.startswith("-   "), line


def test_changes_top_version_is_package_version() -> None:
    source = _read("flask_dance/__init__.py")
    match = re.search(r'^__version__ = "([^"]+)"$', source, re.M)
    assert match is not None
    top = _read("CHANGES.rst").splitlines()[0].removeprefix("Version ")
    assert Version(match.group(1)).base_version == top


def test_pytest_plugin_entry_point(pyproject: dict[str, t.Any]) -> None:
    entry_points = pyproject["project"]["entry-points"]["pytest11"]
    assert entry_points == {"pytest_flask_dance": "flask_dance.fixtures.pytest"}
    assert (ROOT / "flask_dance" / "fixtures" / "pytest.py").is_file()
    installed = {
        ep.name: ep.value
        for ep in importlib.metadata.entry_points(group="pytest11")
        if ep.dist is not None and ep.dist.name == "Flask-Dance"
    }
    assert installed == entry_points


def test_package_is_typed() -> None:
    assert (ROOT / "flask_dance" / "py.typed").is_file()
    # The copy under test (editable or wheel) has the marker as well.
    spec = importlib.util.find_spec("flask_dance")
    assert spec is not None
    assert spec.submodule_search_locations is not None
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    assert (package_dir / "py.typed").is_file()


def test_tox_envs() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "tox.ini", encoding="utf-8")
    envlist = config["tox"]["envlist"].split()
    assert envlist == ["py3{13,12,11,10}", "style", "typing", "docs"]
    assert config["testenv"]["package"] == "wheel"
    docs = config["testenv:docs"]["commands"]
    assert docs == "sphinx-build -E -W -b dirhtml docs docs/_build/dirhtml"


def test_ci_script() -> None:
    script = ROOT / ".ci" / "run"
    text = script.read_text("utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    assert "export CI=true" in text
    assert "export PLAYWRIGHT_CHROMIUM_EXECUTABLE=/usr/bin/chromium" in text
    # The docs check runs the README's own command, read from README.rst.
    assert "readme_docs" in text
    assert """grep -m 1 -F "pip install -e '.[docs]'" README.rst""" in text
    assert "graphviz" not in text.lower()
    assert "coverage run --source=flask_dance/consumer" in text
    assert "-m pytest " in text
    assert "coverage report --show-missing --skip-covered --fail-under=90" in text
    # pytest's exit code 5 ("no tests collected") must fail the run.
    assert "status == 5" in text

    bash = shutil.which("bash")

    if bash is None:
        pytest.skip("bash is not installed")

    subprocess.run([bash, "-n", str(script)], check=True, timeout=60)


def test_readme_docs_command_needs_only_the_docs_extra(
    pyproject: dict[str, t.Any],
) -> None:
    readme = _read("README.rst")
    command = (
        "python3 -m venv .venv && .venv/bin/pip install -e '.[docs]'"
        " && .venv/bin/sphinx-build -E -W"
    )
    assert command + " -b dirhtml docs docs/_build/dirhtml" in readme
    docs_extra = " ".join(pyproject["project"]["optional-dependencies"]["docs"])
    # autodoc imports the pytest fixtures, the storages and OpenID Connect.
    for requirement in ("sphinx", "pytest", "SQLAlchemy", "PyJWT", "cryptography"):
        assert requirement in docs_extra
    # No system package: the diagrams are drawn in Python at build time.
    conf = _read("docs/conf.py")
    assert "graphviz" not in conf
    pages = "".join(path.read_text("utf-8") for path in (ROOT / "docs").glob("*.rst"))
    assert ".. graphviz::" not in pages
    assert ".. sequence-diagram::" in pages


def test_docs_have_every_page_in_the_index() -> None:
    index = _read("docs/index.rst")
    listed = re.findall(r"^    ([a-z-]+)$", index, re.M)
    assert [page for page in listed if page in DOCS_PAGES] == list(DOCS_PAGES)

    for page in listed:
        assert (ROOT / "docs" / f"{page}.rst").is_file(), page

    assert _read("docs/changes.rst").rstrip().endswith(".. include:: ../CHANGES.rst")


def test_docs_list_every_contrib_provider() -> None:
    docs = "\n".join(path.read_text("utf-8") for path in (ROOT / "docs").glob("*.rst"))
    modules = sorted(
        path.stem
        for path in (ROOT / "flask_dance" / "contrib").glob("*.py")
        if not path.stem.startswith("_")
    )
    assert modules
    missing = [m for m in modules if f"make_{m}_blueprint" not in docs]
    assert missing == []
