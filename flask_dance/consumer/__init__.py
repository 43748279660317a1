"""The consumer side of the dance: blueprints, sessions and signals."""

from __future__ import annotations

import importlib
import typing as t

from ._backchannel import CacheLogoutStore as CacheLogoutStore
from ._backchannel import LogoutStore as LogoutStore
from ._backchannel import MemoryLogoutStore as MemoryLogoutStore
from ._token_endpoint import TokenRefreshError as TokenRefreshError
from .base import oauth_authorized as oauth_authorized
from .base import oauth_before_login as oauth_before_login
from .base import oauth_error as oauth_error
from .base import oauth_refresh_failed as oauth_refresh_failed
from .oauth2 import OAuth2ConsumerBlueprint as OAuth2ConsumerBlueprint
from .requests import OAuth2Session as OAuth2Session
from .signals import oauth_backchannel_logout as oauth_backchannel_logout

if t.TYPE_CHECKING:  # pragma: no cover
    from ._oauth1_session import OAuth1Session as OAuth1Session
    from .oauth1 import OAuth1ConsumerBlueprint as OAuth1ConsumerBlueprint

__all__ = [
    "CacheLogoutStore",
    "LogoutStore",
    "MemoryLogoutStore",
    "OAuth1ConsumerBlueprint",
    "OAuth1Session",
    "OAuth2ConsumerBlueprint",
    "OAuth2Session",
    "TokenRefreshError",
    "oauth_authorized",
    "oauth_backchannel_logout",
    "oauth_before_login",
    "oauth_error",
    "oauth_refresh_failed",
]


def __getattr__(name: str) -> t.Any:
    """Import the OAuth 1 blueprint and session when first asked for: most
    apps use OAuth 2 only, and would load them for nothing."""
    value: t.Any
    if name == "OAuth1ConsumerBlueprint":
        from .oauth1 import OAuth1ConsumerBlueprint as value
    elif name == "OAuth1Session":
        from ._oauth1_session import OAuth1Session as value
    elif name == "oauth1":  # the submodule, as after Flask-Dance 7.1's import
        value = importlib.import_module(".oauth1", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), "OAuth1ConsumerBlueprint", "OAuth1Session", "oauth1"})
