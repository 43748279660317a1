"""The docs' ``sequence-diagram`` directive, which draws the diagrams in
Python so that the docs build needs no Graphviz."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path
from xml.etree import ElementTree

import pytest

EXTENSION = Path(__file__).resolve().parent.parent / "docs" / "_ext"


@pytest.fixture(scope="module")
def diagram() -> types.ModuleType:
    pytest.importorskip("sphinx")
    spec = importlib.util.spec_from_file_location(
        "sequence_diagram", EXTENSION / "sequence_diagram.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("sequence_diagram", module)
    spec.loader.exec_module(module)
    return module


SOURCE = [
    "participant b: Browser",
    "participant a: Your app\\n(Flask-Dance)",
    "b -> a: GET /login/github",
    "note a: save a <pending> login",
    "a --> b: 302 & more",
]


def test_draws_columns_messages_and_notes(diagram: types.ModuleType) -> None:
    svg = diagram.render(diagram.parse(SOURCE), "The login dance")
    root = ElementTree.fromstring(svg)  # well-formed, with the text escaped
    texts = [
        "".join(node.itertext()) for node in root.iter() if node.tag.endswith("text")
    ]
    assert texts == [
        "Browser",
        "Your app(Flask-Dance)",
        "GET /login/github",
        "save a <pending> login",
        "302 & more",
    ]
    assert root.get("aria-label") == "The login dance"
    dashed = [n for n in root.iter() if n.get("stroke-dasharray") == "5 4"]
    assert len(dashed) == 1  # the reply only


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (["participant a: A", "a -> z: hi"], "unknown participant 'z'"),
        (["participant a: A", "note z: hi"], "unknown participant 'z'"),
        (["participant a: A", "what is this"], "cannot read"),
        ([], "no participant"),
    ],
)
def test_refuses_what_it_cannot_draw(
    diagram: types.ModuleType, source: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        diagram.parse(source)
