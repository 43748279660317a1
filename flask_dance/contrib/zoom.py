"""Zoom (user-managed OAuth apps):
https://developers.zoom.us/docs/integrations/oauth/"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("zoom")
def make_zoom_blueprint(
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
    """Make a blueprint for signing in with Zoom.

    Create a "General App" (user-managed OAuth) at
    https://marketplace.zoom.us/develop/create, set its OAuth redirect URL to
    the ``authorized`` view and add the same URL to the allow list. Scopes are
    chosen on the app. API paths are relative to ``https://api.zoom.us/v2/``,
    such as ``users/me``. Tokens (valid for one hour) are refreshed
    automatically.
    """
    return _base.oauth2_blueprint(
        "zoom",
        __name__,
        locals(),
        base_url="https://api.zoom.us/v2/",
        authorization_url="https://zoom.us/oauth/authorize",
        token_url="https://zoom.us/oauth/token",
        refresh=True,
    )


#: The session of the current request, for the ``zoom`` blueprint.
zoom: OAuth2Session = _base.session_proxy("zoom")  # type: ignore[assignment]
