"""The consumer side of the dance: blueprints, sessions and signals."""

from __future__ import annotations

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
from .requests import OAuth1Session as OAuth1Session
from .requests import OAuth2Session as OAuth2Session
from .signals import oauth_backchannel_logout as oauth_backchannel_logout
