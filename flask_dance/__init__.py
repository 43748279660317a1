"""Doing the OAuth dance with style using Flask, requests, and oauthlib."""

from __future__ import annotations

import typing as t

from .consumer import OAuth2ConsumerBlueprint as OAuth2ConsumerBlueprint

if t.TYPE_CHECKING:  # pragma: no cover
    from .consumer import OAuth1ConsumerBlueprint as OAuth1ConsumerBlueprint

__all__ = ["OAuth1ConsumerBlueprint", "OAuth2ConsumerBlueprint", "__version__"]

__version__ = "8.0.0.dev0"


def __getattr__(name: str) -> t.Any:
    """Import the OAuth 1 blueprint when first asked for."""
    if name != "OAuth1ConsumerBlueprint":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from .consumer import OAuth1ConsumerBlueprint

    globals()[name] = OAuth1ConsumerBlueprint
    return OAuth1ConsumerBlueprint


def __dir__() -> list[str]:
    return sorted({*globals(), "OAuth1ConsumerBlueprint"})
