"""The consumer side of the dance: blueprints, sessions and signals."""

from __future__ import annotations

import typing as t

from ._backchannel import CacheLogoutStore as CacheLogoutStore
from ._backchannel import LogoutStore as LogoutStore
from ._backchannel import MemoryLogoutStore as MemoryLogoutStore
from ._token_endpoint import TokenRefreshError as TokenRefreshError
from .base import oauth_authorized as oauth_authorized
from .base import oauth_before_login as oauth_before_login
from .base import oauth_error as oauth_error
from .base import oauth_refresh_failed as oauth_refresh_failed
from .oauth1 import OAuth1ConsumerBlueprint as OAuth1ConsumerBlueprint
from .oauth2 import OAuth2ConsumerBlueprint as OAuth2ConsumerBlueprint
from .requests import OAuth2Session as OAuth2Session
from .signals import oauth_backchannel_logout as oauth_backchannel_logout

if t.TYPE_CHECKING:  # pragma: no cover
    from ._oauth1_session import OAuth1Session as OAuth1Session


def __getattr__(name: str) -> t.Any:
    """Import :class:`OAuth1Session` when it is first asked for (see
    :mod:`.requests`)."""
    if name != "OAuth1Session":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from .requests import OAuth1Session

    globals()[name] = OAuth1Session
    return OAuth1Session
