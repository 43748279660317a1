"""Authentiq Connect (OpenID Connect, also self-hosted):
https://developers.authentiq.com/"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("authentiq")
def make_authentiq_blueprint(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    scope: _base.Scope = "openid profile",
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    hostname: str = "connect.authentiq.io",
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with Authentiq.

    Register a client at https://dashboard.authentiq.com/ with the
    ``authorized`` view as its redirect URI.

    :param scope: The scopes to ask for. Default: ``"openid profile"``.
    :param hostname: The Authentiq server, for a self-hosted one.
    """
    return _base.oauth2_blueprint(
        "authentiq",
        __name__,
        locals(),
        hostname=hostname,
        authorization_url="authorize",
        token_url="token",
    )


#: The session of the current request, for the ``authentiq`` blueprint.
authentiq: OAuth2Session = _base.session_proxy("authentiq")  # type: ignore[assignment]
