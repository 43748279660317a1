"""Sphinx configuration for the Flask-Dance documentation.

The build must pass offline with ``-W``: no intersphinx, no extension that
downloads anything.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from pallets_sphinx_themes import get_version

# Project --------------------------------------------------------------

project = "Flask-Dance"
copyright = "2026 The Flask-Dance contributors"
author = "The Flask-Dance contributors"


def _version_from_source() -> tuple[str, str]:
    """Read ``__version__`` from the package source when the distribution is
    not installed, in the ``(release, version)`` shape of ``get_version``.
    """
    init = Path(__file__).parent.parent / "flask_dance" / "__init__.py"
    match = re.search(r'^__version__ = "([^"]+)"', init.read_text("utf-8"), re.M)

    if match is None:
        raise RuntimeError(f"No __version__ found in {init}.")

    release = match.group(1)
    return release, ".".join(release.split(".", 2)[:2]) + ".x"


try:
    metadata.version(project)
except metadata.PackageNotFoundError:
    release, version = _version_from_source()
else:
    release, version = get_version(project)

# The docs' own extensions live in docs/_ext.
sys.path.insert(0, str(Path(__file__).parent / "_ext"))

# General --------------------------------------------------------------

default_role = "code"
extensions = [
    "sphinx.ext.autodoc",
    # Draws the sequence diagrams in Python: no Graphviz needed.
    "sequence_diagram",
    "pallets_sphinx_themes",
]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_preserve_defaults = True
exclude_patterns = ["_build"]

# HTML -----------------------------------------------------------------

html_theme = "flask"
html_theme_options = {"index_sidebar_logo": False}
html_sidebars = {"**": ["localtoc.html", "relations.html", "searchbox.html"]}
singlehtml_sidebars = {"index": ["localtoc.html"]}
html_title = f"Flask-Dance Documentation ({version})"
html_show_sourcelink = False
html_static_path = ["_static"]
html_css_files = ["flask-dance.css"]
# The theme's version banner asks PyPI from the reader's browser; keep the
# pages free of third-party requests.
version_banner = False
