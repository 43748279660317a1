"""A ``sequence-diagram`` directive that draws an SVG sequence diagram at
build time, in Python, so that the docs build needs no system package.

.. code-block:: rst

    .. sequence-diagram::
        :alt: What a screen reader says instead.

        participant browser: Browser
        participant app: Your app\\n(Flask-Dance)
        browser -> app: GET /login/github
        note app: save a pending login
        app --> browser: 302 to the provider

``participant KEY: LABEL`` adds a column (in order of appearance); ``A -> B:
TEXT`` draws a message, ``A --> B: TEXT`` a reply (dashed); ``note KEY: TEXT``
a note on a lifeline. ``\\n`` in a label starts a new line. The SVG is
inlined in HTML output.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass
from dataclasses import field
from html import escape

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

#: Layout, in SVG user units (pixels at 100 % zoom).
COLUMN_WIDTH = 250
MARGIN = 12
HEAD_HEIGHT = 44
LINE_HEIGHT = 15
ROW_GAP = 14
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif"

_PARTICIPANT = re.compile(r"^participant\s+(\w+)\s*:\s*(.+)$")
_MESSAGE = re.compile(r"^(\w+)\s*(-->|->)\s*(\w+)\s*:\s*(.+)$")
_NOTE = re.compile(r"^note\s+(\w+)\s*:\s*(.+)$")


@dataclass
class Diagram:
    """The parsed participants and steps of one diagram."""

    columns: dict[str, list[str]] = field(default_factory=dict)
    #: ("message", source, target, lines, dashed) or ("note", key, lines).
    steps: list[tuple[t.Any, ...]] = field(default_factory=list)


def _lines(text: str) -> list[str]:
    return [part.strip() for part in text.split("\\n")]


def parse(source: t.Iterable[str]) -> Diagram:
    """Parse the directive's content.

    :param source: The content lines.
    :raises ValueError: On a line that is none of the three forms, or a
        name that no ``participant`` line declared.
    """
    diagram = Diagram()
    for number, raw in enumerate(source, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if match := _PARTICIPANT.match(line):
            diagram.columns[match[1]] = _lines(match[2])
            continue
        if match := _MESSAGE.match(line):
            source_key, arrow, target, text = match.groups()
            for key in (source_key, target):
                if key not in diagram.columns:
                    raise ValueError(f"line {number}: unknown participant {key!r}")
            diagram.steps.append(
                ("message", source_key, target, _lines(text), arrow == "-->")
            )
            continue
        if match := _NOTE.match(line):
            if match[1] not in diagram.columns:
                raise ValueError(f"line {number}: unknown participant {match[1]!r}")
            diagram.steps.append(("note", match[1], _lines(match[2])))
            continue
        raise ValueError(f"line {number}: cannot read {line!r}")
    if not diagram.columns:
        raise ValueError("no participant")
    return diagram


def _text(x: float, y: float, lines: list[str], size: int, anchor: str) -> str:
    spans = "".join(
        f'<tspan x="{x:g}" y="{y + i * LINE_HEIGHT:g}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<text text-anchor="{anchor}" font-size="{size}" style="{FONT}"'
        f' fill="currentColor">{spans}</text>'
    )


def render(diagram: Diagram, alt: str) -> str:
    """The diagram as an inline SVG element.

    :param diagram: What :func:`parse` returned.
    :param alt: The accessible description.
    """
    keys = list(diagram.columns)
    x_of = {key: MARGIN + COLUMN_WIDTH * (i + 0.5) for i, key in enumerate(keys)}
    width = MARGIN * 2 + COLUMN_WIDTH * len(keys)
    body: list[str] = []
    y = HEAD_HEIGHT + MARGIN + ROW_GAP
    for step in diagram.steps:
        if step[0] == "message":
            _, source, target, lines, dashed = step
            x1, x2 = x_of[source], x_of[target]
            text_y = y + LINE_HEIGHT - 3
            body.append(_text((x1 + x2) / 2, text_y, lines, 12, "middle"))
            arrow_y = y + LINE_HEIGHT * len(lines) + 2
            direction = 1 if x2 > x1 else -1
            tip = x2 - direction * 2
            dash = ' stroke-dasharray="5 4"' if dashed else ""
            body.append(
                f'<line x1="{x1:g}" y1="{arrow_y:g}" x2="{tip:g}" y2="{arrow_y:g}"'
                f' stroke="currentColor" stroke-width="1.3"{dash}/>'
            )
            back = tip - direction * 9
            body.append(
                f'<path d="M{tip:g},{arrow_y:g} L{back:g},{arrow_y - 4:g}'
                f' L{back:g},{arrow_y + 4:g} Z" fill="currentColor"/>'
            )
            y = arrow_y + ROW_GAP
        else:
            _, key, lines = step
            box_width = COLUMN_WIDTH - 30
            box_height = LINE_HEIGHT * len(lines) + 10
            x = x_of[key] - box_width / 2
            body.append(
                f'<rect x="{x:g}" y="{y:g}" width="{box_width}"'
                f' height="{box_height}" rx="3" fill="#fff8dc" stroke="#c9b458"/>'
            )
            note = _text(x_of[key], y + 16, lines, 11, "middle")
            body.append(f'<g style="color:#222">{note}</g>')
            y += box_height + ROW_GAP
    height = y + MARGIN
    heads: list[str] = []
    for key in keys:
        x = x_of[key]
        heads.append(
            f'<line x1="{x:g}" y1="{MARGIN + HEAD_HEIGHT:g}" x2="{x:g}"'
            f' y2="{height - MARGIN:g}" stroke="#999" stroke-dasharray="4 4"/>'
        )
        heads.append(
            f'<rect x="{x - 80:g}" y="{MARGIN}" width="160" height="{HEAD_HEIGHT}"'
            f' rx="6" fill="#eee" stroke="#888"/>'
        )
        lines = diagram.columns[key]
        first = MARGIN + HEAD_HEIGHT / 2 - (len(lines) - 1) * LINE_HEIGHT / 2 + 4
        heads.append(
            f'<g style="color:#222">{_text(x, first, lines, 13, "middle")}</g>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img"'
        f' aria-label="{escape(alt)}" viewBox="0 0 {width:g} {height:g}"'
        f' width="{width:g}" style="max-width:100%;height:auto">'
        f"<title>{escape(alt)}</title>{''.join(heads)}{''.join(body)}</svg>"
    )


class SequenceDiagram(SphinxDirective):
    """The ``sequence-diagram`` directive."""

    has_content = True
    option_spec: t.ClassVar[dict[str, t.Callable[[str], t.Any]]] = {
        "alt": directives.unchanged_required,
    }

    def run(self) -> list[nodes.Node]:
        alt = " ".join(self.options.get("alt", "A sequence diagram.").split())
        try:
            diagram = parse(self.content)
        except ValueError as exc:
            raise self.error(f"sequence-diagram: {exc}") from exc
        svg = render(diagram, alt)
        container = nodes.container(classes=["sequence-diagram"])
        container += nodes.raw("", svg, format="html")
        return [container]


def setup(app: Sphinx) -> dict[str, t.Any]:
    """Register the directive."""
    app.add_directive("sequence-diagram", SequenceDiagram)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
