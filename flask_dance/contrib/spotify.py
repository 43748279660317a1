"""Spotify Web API: https://developer.spotify.com/documentation/web-api/tutorials/code-flow"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("spotify")
def make_spotify_blueprint(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    scope: _base.Scope = None,
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with Spotify.

    Create an app at https://developer.spotify.com/dashboard and add the
    ``authorized`` view to its redirect URIs. API paths are relative to
    ``https://api.spotify.com``, such as ``v1/me``.
    """
    return _base.oauth2_blueprint(
        "spotify",
        __name__,
        locals(),
        base_url="https://api.spotify.com",
        authorization_url="https://accounts.spotify.com/authorize",
        token_url="https://accounts.spotify.com/api/token",
    )


#: The session of the current request, for the ``spotify`` blueprint.
spotify: OAuth2Session = _base.session_proxy("spotify")  # type: ignore[assignment]
