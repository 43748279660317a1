"""OpenStreetMap (OAuth 2.0): https://wiki.openstreetmap.org/wiki/OAuth"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("osm")
def make_osm_blueprint(
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
    """Make a blueprint for signing in with OpenStreetMap.

    Register an OAuth 2 application in your account settings
    (https://www.openstreetmap.org/oauth2/applications) with the ``authorized``
    view as its redirect URI. A typical scope is ``"read_prefs"``. API paths
    are relative to ``https://www.openstreetmap.org/api/0.6/``.
    """
    return _base.oauth2_blueprint(
        "osm",
        __name__,
        locals(),
        base_url="https://www.openstreetmap.org/api/0.6/",
        authorization_url="https://www.openstreetmap.org/oauth2/authorize",
        token_url="https://www.openstreetmap.org/oauth2/token",
    )


#: The session of the current request, for the ``osm`` blueprint.
osm: OAuth2Session = _base.session_proxy("osm")  # type: ignore[assignment]
